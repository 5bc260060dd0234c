package search_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/valyala/fastjson"

	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/internal/searchclient"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/readmodel"
	"github.com/cqrses-aws/pipeline/projectors/search"
	"github.com/cqrses-aws/pipeline/schemas"
)

// testTimeout bounds each test's calls to the server.
const testTimeout = 2 * time.Minute

// eachClient runs fn against the local OpenSearch through both adapters, as parallel subtests.
func eachClient(t *testing.T, fn func(t *testing.T, cl search.Client)) {
	t.Helper()
	for name, cl := range map[string]search.Client{
		"opensearch":    openSearchClient(t),
		"elasticsearch": elasticsearchClient(t),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, cl)
		})
	}
}

func openSearchClient(tb testing.TB) search.Client {
	tb.Helper()
	return search.NewOpenSearchClient(testkit.OpenSearch(tb))
}

func elasticsearchClient(tb testing.TB) search.Client {
	tb.Helper()
	es, err := searchclient.NewElasticsearch(testkit.MustStack(tb).Search, searchclient.ElasticsearchOptions{AcceptOpenSearch: true})
	if err != nil {
		tb.Fatalf("elasticsearch client: %v", err)
	}
	return search.NewElasticsearchClient(es)
}

// newProjection returns a projection with a unique name whose indices are deleted when the test ends.
func newProjection(tb testing.TB, cl search.Client, cfg search.Config) *search.Projection {
	tb.Helper()
	cfg.Name = testkit.UniqueName(tb, "search")
	p, err := search.New(cl, cfg)
	if err != nil {
		tb.Fatalf("new projection: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		versions, err := p.Versions(ctx)
		if err != nil {
			tb.Errorf("cleanup: versions of %s: %v", p.Name(), err)
			return
		}
		for _, v := range versions {
			if err := cl.DeleteIndex(ctx, p.Index(v)); err != nil {
				tb.Errorf("cleanup: delete %s: %v", p.Index(v), err)
			}
		}
	})
	return p
}

// fixture is one projection's version 1 with the reference model of what was committed to it.
type fixture struct {
	cl   search.Client
	p    *search.Projection
	tgt  projection.Target
	want *readmodel.Model
}

// newFixture opens version 1 of a new projection with small bulk requests, so that batches take several.
func newFixture(t *testing.T, cl search.Client) *fixture {
	t.Helper()
	return newFixtureBulk(t, cl, 7)
}

func newFixtureBulk(t *testing.T, cl search.Client, bulkSize int) *fixture {
	t.Helper()
	p := newProjection(t, cl, search.Config{BulkSize: bulkSize})
	tgt, err := p.Open(ctx(t), 1)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return &fixture{cl: cl, p: p, tgt: tgt, want: readmodel.New()}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return c
}

// commit applies one batch the way the runner does: States, drop what is not above the stored seq, Apply,
// Save, Commit; and folds the batch into the reference model.
func (f *fixture) commit(t *testing.T, events ...projection.Event) {
	t.Helper()
	commitBatch(t, f.tgt, events)
	for _, e := range events {
		if err := f.want.Apply(e.Envelope); err != nil {
			t.Fatalf("reference model: %v", err)
		}
	}
}

func commitBatch(tb testing.TB, tgt projection.Target, events []projection.Event) {
	tb.Helper()
	c := context.Background()
	tx, err := tgt.Begin(c)
	if err != nil {
		tb.Fatalf("begin: %v", err)
	}
	var ids []string
	for _, e := range events {
		if !slices.Contains(ids, e.AggregateID) {
			ids = append(ids, e.AggregateID)
		}
	}
	states, err := tx.States(c, ids)
	if err != nil {
		tb.Fatalf("states: %v", err)
	}
	next := map[string]projection.State{}
	var apply []projection.Event
	for _, e := range events {
		if e.Seq <= states[e.AggregateID].Seq || e.Seq <= next[e.AggregateID].Seq {
			continue
		}
		apply = append(apply, e)
		next[e.AggregateID] = projection.State{Seq: e.Seq}
	}
	if err := tx.Apply(c, apply); err != nil {
		tb.Fatalf("apply: %v", err)
	}
	if err := tx.Save(c, next, nil); err != nil {
		tb.Fatalf("save: %v", err)
	}
	if err := tx.Commit(c); err != nil {
		tb.Fatalf("commit: %v", err)
	}
}

// applyRaw applies events without the runner's duplicate filter, as after a crash between the document writes
// and the state write; with save false it writes no state, as that crash would.
func (f *fixture) applyRaw(t *testing.T, save bool, events ...projection.Event) {
	t.Helper()
	tx, err := f.tgt.Begin(ctx(t))
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	next := map[string]projection.State{}
	var ids []string
	for _, e := range events {
		next[e.AggregateID] = projection.State{Seq: max(e.Seq, next[e.AggregateID].Seq)}
		ids = append(ids, e.AggregateID)
	}
	if _, err := tx.States(ctx(t), ids); err != nil {
		t.Fatalf("states: %v", err)
	}
	if err := tx.Apply(ctx(t), events); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if save {
		if err := tx.Save(ctx(t), next, nil); err != nil {
			t.Fatalf("save: %v", err)
		}
	}
	if err := tx.Commit(ctx(t)); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

// check compares what the index holds with the reference model (without members and last message times, which
// the search index does not keep).
func (f *fixture) check(t *testing.T) *readmodel.Model {
	t.Helper()
	got, err := search.Dump(ctx(t), f.cl, f.p.Index(1))
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	if diff := got.Diff(withoutRoomDetails(f.want)); len(diff) > 0 {
		t.Fatalf("index differs from the reference model:\n%s", strings.Join(diff, "\n"))
	}
	return got
}

func withoutRoomDetails(m *readmodel.Model) *readmodel.Model {
	out := &readmodel.Model{Accounts: m.Accounts, Messages: m.Messages, Rooms: map[string]readmodel.Room{}}
	for id, r := range m.Rooms {
		out.Rooms[id] = readmodel.Room{ID: r.ID, Name: r.Name, Version: r.Version}
	}
	return out
}

// states returns the stored states of ids.
func (f *fixture) states(t *testing.T, ids ...string) map[string]projection.State {
	t.Helper()
	tx, err := f.tgt.Begin(ctx(t))
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	defer tx.Rollback(ctx(t))
	states, err := tx.States(ctx(t), ids)
	if err != nil {
		t.Fatalf("states: %v", err)
	}
	return states
}

// find returns the ids of the messages whose text matches query, sorted.
func (f *fixture) find(t *testing.T, query string) []string {
	t.Helper()
	if err := f.cl.Refresh(ctx(t), f.p.Index(1)); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	q, _ := json.Marshal(query)
	body := fmt.Sprintf(`{"size":100,"query":{"bool":{"filter":[{"term":{"kind":"message"}}],"must":[{"match":{"text":%s}}]}}}`, q)
	raw, err := f.cl.Search(ctx(t), f.p.Index(1), []byte(body))
	if err != nil {
		t.Fatalf("search %q: %v", query, err)
	}
	v, err := fastjson.ParseBytes(raw)
	if err != nil {
		t.Fatalf("decode search answer: %v", err)
	}
	var ids []string
	for _, h := range v.GetArray("hits", "hits") {
		ids = append(ids, string(h.GetStringBytes("_id")))
	}
	slices.Sort(ids)
	return ids
}

// stream makes events with contiguous seqs per aggregate and increasing times.
type stream struct {
	seqs map[string]int64
	at   time.Time
	rnd  *rand.Rand
}

func newStream(seed uint64) *stream {
	return &stream{
		seqs: map[string]int64{},
		at:   time.Date(2025, 11, 20, 9, 0, 0, 123456789, time.UTC),
		rnd:  rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
}

// newID returns prefix followed by a fresh ULID, the shape of room and message ids.
func (s *stream) newID(prefix string) string {
	var entropy [10]byte
	for i := range entropy {
		entropy[i] = byte(s.rnd.UintN(256))
	}
	id, err := ulid.New(ulid.Timestamp(s.at), strings.NewReader(string(entropy[:])))
	if err != nil {
		panic(err) // the entropy never runs out
	}
	return prefix + id.String()
}

// ev returns the next event of aggregate id with payload (a pointer to a current-version payload type).
func (s *stream) ev(id string, payload any) projection.Event {
	typ := strings.TrimPrefix(fmt.Sprintf("%T", payload), "*schemas.")
	typ = typ[:strings.LastIndex(typ, "V")]
	aggType, ok := schemas.AggregateTypeOf(typ)
	if !ok {
		panic("unknown payload " + typ)
	}
	version, _ := schemas.Current(typ)
	raw, err := json.Marshal(payload)
	if err != nil {
		panic(err)
	}
	s.seqs[id]++
	s.at = s.at.Add(time.Millisecond + time.Duration(s.rnd.IntN(1000)))
	return projection.Event{
		Envelope: schemas.Envelope{
			ID: ulid.Make().String(), Type: typ, Version: version, AggregateType: aggType, AggregateID: id,
			Seq: s.seqs[id], OccurredAt: s.at, CorrelationID: "c", CausationID: "c", CommandID: ulid.Make().String(),
			Payload: raw,
		},
		Payload: payload,
		Offset:  -1,
	}
}
