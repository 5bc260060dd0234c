package search_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

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
