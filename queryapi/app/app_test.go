package app_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/consistency"
	"github.com/cqrses-aws/pipeline/queryapi/app"
)

// views is a small model: ann is a member of r1 and r2; r1 has n messages, newest first.
type views struct{ msgs []app.Message }

func (v *views) Rooms(_ context.Context, caller, after string, limit int) ([]app.RoomSummary, error) {
	var out []app.RoomSummary
	for _, id := range []string{"r1", "r2"} {
		if caller == "ann" && id > after && len(out) < limit {
			out = append(out, app.RoomSummary{ID: id})
		}
	}
	return out, nil
}
func (v *views) Room(context.Context, string, string) (app.Room, error) {
	return app.Room{}, app.ErrNotFound
}
func (v *views) Messages(_ context.Context, _, _ string, _ *app.MessageKey, limit int) ([]app.Message, error) {
	return v.msgs[:min(limit, len(v.msgs))], nil
}
func (v *views) Account(context.Context, string) (app.Account, error) {
	return app.Account{ID: "ann"}, nil
}
func (v *views) MemberRooms(_ context.Context, caller string) ([]string, error) {
	if caller == "ann" {
		return []string{"r1", "r2"}, nil
	}
	return nil, nil
}

// AppliedSeqs says the views applied every room far beyond the searcher's hits.
func (v *views) AppliedSeqs(_ context.Context, ids []string) (map[string]int64, error) {
	seqs := make(map[string]int64, len(ids))
	for _, id := range ids {
		seqs[id] = 1 << 40
	}
	return seqs, nil
}

// Vouch holds every hit of searcher ("m-<room>", empty text) as it is.
func (v *views) Vouch(_ context.Context, ids []string) (map[string]app.Vouched, error) {
	out := make(map[string]app.Vouched, len(ids))
	for _, id := range ids {
		out[id] = app.Vouched{RoomID: strings.TrimPrefix(id, "m-")}
	}
	return out, nil
}

// searcher records the queries it gets and finds one hit per room asked for.
type searcher struct {
	mu      sync.Mutex
	queries []app.SearchQuery
}

func (s *searcher) Search(_ context.Context, q app.SearchQuery) ([]app.Hit, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries = append(s.queries, q)
	var hits []app.Hit
	for _, r := range q.Rooms {
		hits = append(hits, app.Hit{MessageID: "m-" + r, RoomID: r})
	}
	return hits, nil
}

// progress applies writes up to applied; it records what was waited for.
type progress struct {
	mu      sync.Mutex
	applied int64
	waited  []consistency.Token
}

func (p *progress) Wait(ctx context.Context, id string, seq int64) bool {
	p.mu.Lock()
	p.waited = append(p.waited, consistency.Token{AggregateID: id, Seq: seq})
	ok := seq <= p.applied
	p.mu.Unlock()
	if ok {
		return true
	}
	<-ctx.Done()
	return false
}

type fixture struct {
	q               *app.Queries
	search          *searcher
	viewsP, searchP *progress
	observed        []string
	observedMu      sync.Mutex
}

func newFixture(t *testing.T, messages int) *fixture {
	t.Helper()
	f := &fixture{search: &searcher{}, viewsP: &progress{applied: 10}, searchP: &progress{applied: 5}}
	v := &views{}
	for i := range messages {
		v.msgs = append(v.msgs, app.Message{ID: string(rune('a' + i)), PostedAt: time.Unix(int64(1000-i), 0)})
	}
	q, err := app.New(app.Config{Views: v, ViewsProgress: f.viewsP, Search: f.search, SearchProgress: f.searchP,
		ConsistencyTimeout: 50 * time.Millisecond,
		Observe: func(model string, applied bool, _ time.Duration) {
			f.observedMu.Lock()
			defer f.observedMu.Unlock()
			f.observed = append(f.observed, model+map[bool]string{true: ":applied", false: ":stale"}[applied])
		}})
	if err != nil {
		t.Fatal(err)
	}
	f.q = q
	return f
}

func TestNewNeedsEveryReadModel(t *testing.T) {
	t.Parallel()
	if _, err := app.New(app.Config{Views: &views{}}); err == nil {
		t.Error("New without search and progress succeeded")
	}
}

func TestSearchIsLimitedToTheCallersRooms(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	ctx := context.Background()
	page, _, err := f.q.Search(ctx, app.Options{Caller: "ann"}, "hi", "", nil, 10)
	if err != nil || len(page.Items) != 2 {
		t.Fatalf("search of all ann's rooms = %+v, %v", page, err)
	}
	if got := f.search.queries[0].Rooms; !slices.Equal(got, []string{"r1", "r2"}) {
		t.Errorf("searched rooms %v, want ann's", got)
	}
	page, _, err = f.q.Search(ctx, app.Options{Caller: "ann"}, "hi", "r2", nil, 10)
	if err != nil || len(page.Items) != 1 || f.search.queries[1].Rooms[0] != "r2" {
		t.Errorf("search of r2 = %+v, %v (rooms %v)", page, err, f.search.queries[1].Rooms)
	}
	for _, tc := range []struct{ caller, room string }{{"ann", "r9"}, {"eve", ""}, {"eve", "r1"}} {
		page, _, err := f.q.Search(ctx, app.Options{Caller: tc.caller}, "hi", tc.room, nil, 10)
		if err != nil || len(page.Items) != 0 {
			t.Errorf("search by %s in %q = %+v, %v; want nothing", tc.caller, tc.room, page, err)
		}
	}
	if len(f.search.queries) != 2 {
		t.Errorf("the index was asked %d times, want only for rooms the caller is in", len(f.search.queries))
	}
}

func TestPagesEndWhereTheItemsDo(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5)
	ctx := context.Background()
	page, _, err := f.q.Messages(ctx, app.Options{Caller: "ann"}, "r1", nil, 3)
	if err != nil || len(page.Items) != 3 || page.Next == nil || page.Next.ID != "c" {
		t.Errorf("first page = %+v, %v; want 3 items and a next key after c", page, err)
	}
	page, _, err = f.q.Messages(ctx, app.Options{Caller: "ann"}, "r1", nil, 5)
	if err != nil || len(page.Items) != 5 || page.Next != nil {
		t.Errorf("exact page = %+v, %v; want 5 items and no next key", page, err)
	}
	rooms, next, _, err := f.q.Rooms(ctx, app.Options{Caller: "ann"}, "", 1)
	if err != nil || len(rooms) != 1 || next != "r1" {
		t.Errorf("rooms page = %+v next %q, %v", rooms, next, err)
	}
	if _, next, _, _ := f.q.Rooms(ctx, app.Options{Caller: "ann"}, "r1", 1); next != "" {
		t.Errorf("last rooms page has next %q", next)
	}
}

func TestConsistentWithWaitsForTheReadModelsBehindTheQuery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	applied := &consistency.Token{AggregateID: "r1", Seq: 5}
	ahead := &consistency.Token{AggregateID: "r1", Seq: 8} // applied by the views only

	f := newFixture(t, 1)
	if _, fresh, _ := f.q.Messages(ctx, app.Options{Caller: "ann", ConsistentWith: ahead}, "r1", nil, 10); !fresh {
		t.Error("messages consistent with a write the views applied: stale")
	}
	if len(f.searchP.waited) != 0 {
		t.Error("a views query waited for the search index")
	}
	if _, fresh, _ := f.q.Search(ctx, app.Options{Caller: "ann", ConsistentWith: applied}, "x", "", nil, 10); !fresh {
		t.Error("search consistent with a write both applied: stale")
	}
	start := time.Now()
	if _, fresh, _ := f.q.Search(ctx, app.Options{Caller: "ann", ConsistentWith: ahead}, "x", "", nil, 10); fresh {
		t.Error("search consistent with a write the index has not applied: fresh")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a stale answer took %s, want about the 50 ms timeout", took)
	}
	if _, fresh, _ := f.q.Account(ctx, app.Options{Caller: "ann"}, "ann"); !fresh {
		t.Error("a query without consistent_with: stale")
	}
	want := []string{"views:applied", "views:applied", "search:applied", "views:applied", "search:stale"}
	if !slices.Equal(f.observed, want) {
		t.Errorf("observed %v, want %v", f.observed, want)
	}
}
