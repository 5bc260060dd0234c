package search_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/cqrses-aws/pipeline/internal/benchkit"
	"github.com/cqrses-aws/pipeline/internal/eventgen"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/readmodel"
	"github.com/cqrses-aws/pipeline/projectors/search"
	"github.com/cqrses-aws/pipeline/schemas"
)

// Sizes of the replay benchmark: 100,000 events of eventgen's default mix (70% MessagePosted) over 2,000 rooms
// (50 events a room) and 1,000 accounts, in batches of 5,000.
const (
	benchEvents   = 100_000
	benchBatch    = 5_000
	benchRooms    = 2_000
	benchAccounts = 1_000
)

// generated returns n events of eventgen's mix, decoded as the runner hands them over, ordered as the runner
// applies a replay from offset zero: every account event first, then the room events (each in stream order).
func generated(tb testing.TB, seed int64, n, rooms, accounts int, mix map[string]int) []projection.Event {
	tb.Helper()
	envs := eventgen.New(eventgen.Config{Seed: seed, Rooms: rooms, Accounts: accounts, Mix: mix}).Events(n)
	var accountEvents, roomEvents []projection.Event
	for _, env := range envs {
		up, err := schemas.Upcast(env)
		if err != nil {
			tb.Fatalf("upcast: %v", err)
		}
		payload, err := schemas.Decode(up)
		if err != nil {
			tb.Fatalf("decode: %v", err)
		}
		e := projection.Event{Envelope: up, Payload: payload, Offset: -1}
		if up.AggregateType == schemas.AggregateTypeAccount {
			accountEvents = append(accountEvents, e)
		} else {
			roomEvents = append(roomEvents, e)
		}
	}
	return append(accountEvents, roomEvents...)
}

// BenchmarkReplay replays a synthetic chat through the projection ("projection"), accounts first as the runner
// does, and for comparison bulk-indexes only the final message documents with the same client and bulk size
// ("reference"); both report events/s (the reference: the replay's events over its time). It runs eventgen's
// default mix, and the same mix without renames, whose rewrites of the stored messages of a renamed room
// remain the projection's main extra cost.
func BenchmarkReplay(b *testing.B) {
	noRenames := eventgen.DefaultMix()
	delete(noRenames, schemas.TypeAccountRenamed)
	delete(noRenames, schemas.TypeRoomRenamed)
	for _, mix := range []struct {
		name string
		mix  map[string]int
	}{{"default-mix", nil}, {"no-renames", noRenames}} {
		b.Run(mix.name, func(b *testing.B) {
			benchmarkReplay(b, generated(b, 42, benchEvents, benchRooms, benchAccounts, mix.mix))
		})
	}
}

// benchmarkReplay also reports the bulk actions and the requests of one replay: they do not depend on the load
// of a shared server, as the times do.
func benchmarkReplay(b *testing.B, events []projection.Event) {
	server := openSearchClient(b)
	model := readmodel.New()
	for _, e := range events {
		if err := model.Apply(e.Envelope); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("projection", func(b *testing.B) {
		cl := &countingClient{Client: server}
		var elapsed time.Duration
		for b.Loop() {
			b.StopTimer()
			p := newProjection(b, cl, search.Config{})
			tgt, err := p.Open(context.Background(), 1)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			for i := 0; i < len(events); i += benchBatch {
				commitBatch(b, tgt, events[i:min(i+benchBatch, len(events))])
			}
			elapsed += time.Since(start)
			b.StopTimer()
			got, err := search.Dump(context.Background(), server, p.Index(1))
			if err != nil {
				b.Fatal(err)
			}
			if diff := got.Diff(withoutRoomDetails(model)); len(diff) > 0 {
				b.Fatalf("the index differs from the reference model in %d ways, first %s", len(diff), diff[0])
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(b.N*len(events))/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(cl.actions.Load())/float64(b.N), "actions/op")
		b.ReportMetric(float64(cl.requests())/float64(b.N), "requests/op")
	})

	b.Run("reference", func(b *testing.B) {
		cl := &countingClient{Client: server}
		var elapsed time.Duration
		for b.Loop() {
			b.StopTimer()
			p := newProjection(b, cl, search.Config{})
			if _, err := p.Open(context.Background(), 1); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start := time.Now()
			bulkFinalDocs(b, cl, p.Index(1), model, 1000)
			elapsed += time.Since(start)
		}
		b.ReportMetric(float64(b.N*len(events))/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(cl.actions.Load())/float64(b.N), "actions/op")
		b.ReportMetric(float64(cl.requests())/float64(b.N), "requests/op")
	})
}

// bulkFinalDocs indexes the model's messages with plain index actions, size per request.
func bulkFinalDocs(tb testing.TB, cl search.Client, index string, model *readmodel.Model, size int) {
	tb.Helper()
	type doc struct {
		Kind       string     `json:"kind"`
		MessageID  string     `json:"message_id"`
		RoomID     string     `json:"room_id"`
		RoomName   string     `json:"room_name"`
		SenderID   string     `json:"sender_id"`
		SenderName string     `json:"sender_name"`
		Text       string     `json:"text"`
		PostedAt   time.Time  `json:"posted_at"`
		EditedAt   *time.Time `json:"edited_at"`
	}
	var body []byte
	n := 0
	flush := func() {
		if n == 0 {
			return
		}
		if _, err := cl.Bulk(context.Background(), index, body); err != nil {
			tb.Fatal(err)
		}
		body, n = body[:0], 0
	}
	for _, m := range model.Messages {
		d := doc{Kind: "message", MessageID: m.ID, RoomID: m.RoomID, RoomName: m.RoomName, SenderID: m.SenderID,
			SenderName: m.SenderName, Text: m.Text, PostedAt: m.PostedAt}
		if !m.EditedAt.IsZero() {
			d.EditedAt = &m.EditedAt
		}
		meta, _ := json.Marshal(map[string]any{"index": map[string]string{"_id": m.ID}})
		src, _ := json.Marshal(d)
		body = append(append(append(append(body, meta...), '\n'), src...), '\n')
		if n++; n == size {
			flush()
		}
	}
	flush()
}

// Sizes of the million-aggregates benchmark: 500,000 accounts with one event each, then 500,000 rooms with two
// (created, one message by one of the accounts), in batches of a build's default size.
const (
	millionAccounts = 500_000
	millionRooms    = 500_000
	millionBatch    = 20_000
)

// timingClient adds up the time of the bookkeeping requests (state documents and the renames marker) and
// records the largest request body of any kind.
type timingClient struct {
	search.Client
	mu          sync.Mutex
	largest     int
	bookkeeping time.Duration
}

func (c *timingClient) observe(body []byte, start time.Time) {
	bookkeeping := bytes.Contains(body, []byte(`"state:`)) || bytes.Contains(body, []byte(`"renames"`))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.largest = max(c.largest, len(body))
	if bookkeeping {
		c.bookkeeping += time.Since(start)
	}
}

func (c *timingClient) Bulk(ctx context.Context, index string, body []byte) ([]byte, error) {
	defer c.observe(body, time.Now())
	return c.Client.Bulk(ctx, index, body)
}

func (c *timingClient) Mget(ctx context.Context, index string, body []byte) ([]byte, error) {
	defer c.observe(body, time.Now())
	return c.Client.Mget(ctx, index, body)
}

func (c *timingClient) Search(ctx context.Context, index string, body []byte) ([]byte, error) {
	defer c.observe(body, time.Now())
	return c.Client.Search(ctx, index, body)
}

// BenchmarkRatioSearchMillionAggregates replays 1,000,000 distinct aggregates (half accounts, half rooms with
// one message each; 1.5 million events) straight into a search target, batch by batch as the runner applies a
// build, and records the largest request body it sent (a plain figure, target at most 5 MiB), and the share of
// the wall time spent in bookkeeping requests (state documents and renames marker; diagnostic, no target).
func BenchmarkRatioSearchMillionAggregates(b *testing.B) {
	benchkit.Expect(b, "search_1m_aggregates_bookkeeping_share", "search_1m_aggregates_largest_request")
	server := openSearchClient(b)
	for b.Loop() {
		cl := &timingClient{Client: server}
		p := newProjection(b, cl, search.Config{})
		tgt, err := p.Open(context.Background(), p.Version())
		if err != nil {
			b.Fatal(err)
		}
		s := newStream(77)
		account := func(i int) string { return fmt.Sprintf("acct-%07d", i) }
		start := time.Now()
		var batch []projection.Event
		flush := func() {
			commitBatch(b, tgt, batch)
			batch = batch[:0]
		}
		for i := range millionAccounts {
			batch = append(batch, s.ev(account(i), &schemas.AccountRegisteredV1{Name: fmt.Sprintf("user %d", i)}))
			if len(batch) == millionBatch {
				flush()
			}
		}
		for i := range millionRooms {
			room := s.newID("room-")
			batch = append(batch,
				s.ev(room, &schemas.RoomCreatedV1{Name: fmt.Sprintf("room %d", i), CreatedBy: account(i)}),
				s.ev(room, &schemas.MessagePostedV1{MessageID: s.newID("msg-"), AuthorID: account(i), Text: "hello world"}))
			if len(batch) >= millionBatch {
				flush()
			}
		}
		flush()
		wall := time.Since(start)
		b.StopTimer()
		checkMillion(b, server, p.Index(p.Version()), account(millionAccounts-1))

		largestMiB := float64(cl.largest) / (1 << 20)
		share := cl.bookkeeping.Seconds() / wall.Seconds()
		b.ReportMetric(largestMiB, "largest-request-MiB")
		b.ReportMetric(100*share, "bookkeeping-%")
		b.ReportMetric(float64(millionAccounts+2*millionRooms)/wall.Seconds(), "events/s")
		benchkit.Save(b, "search_1m_aggregates_bookkeeping_share", benchkit.Result{
			Value: cl.bookkeeping.Seconds(), Reference: wall.Seconds(), Ratio: share, Unit: "s",
			Note: fmt.Sprintf("diagnostic, no target; time in state document and renames marker requests over the "+
				"wall time of a replay of %d accounts and %d rooms with one message (%d events, batches of %d)",
				millionAccounts, millionRooms, millionAccounts+2*millionRooms, millionBatch),
		}, nil)
		largest := benchkit.Figure(largestMiB, "MiB")
		largest.Target = benchkit.ValueAtMost(5)
		largest.Note = "largest request body (bulk, mget, search) of the same replay"
		benchkit.Save(b, "search_1m_aggregates_largest_request", largest, nil)
		b.StartTimer()
	}
}

// checkMillion checks that the replay left one message document per room and the last account applied.
func checkMillion(b *testing.B, cl search.Client, index, lastAccount string) {
	b.Helper()
	c := context.Background()
	if err := cl.Refresh(c, index); err != nil {
		b.Fatal(err)
	}
	raw, err := cl.Search(c, index, []byte(`{"size":0,"track_total_hits":true,"query":{"term":{"kind":"message"}}}`))
	if err != nil {
		b.Fatal(err)
	}
	if n := fastjson.MustParseBytes(raw).GetInt("hits", "total", "value"); n != millionRooms {
		b.Fatalf("%d message documents, want %d", n, millionRooms)
	}
	if seqs, err := search.AppliedSeqs(c, cl, index, []string{lastAccount}); err != nil || seqs[lastAccount] != 1 {
		b.Fatalf("AppliedSeqs(%s) = %v, %v; want 1", lastAccount, seqs, err)
	}
}
