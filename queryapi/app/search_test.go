package app_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/queryapi/app"
)

// laggingViews is a views model for the search authority: ann is a member of the rooms in applied, which the
// views applied up to the seq given; it counts the AppliedSeqs queries.
type laggingViews struct {
	views
	mu      sync.Mutex
	applied map[string]int64
	asked   [][]string
	fail    error
}

func (v *laggingViews) MemberRooms(_ context.Context, caller string) ([]string, error) {
	if caller != "ann" {
		return nil, nil
	}
	var ids []string
	for id := range v.applied {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

func (v *laggingViews) AppliedSeqs(_ context.Context, ids []string) (map[string]int64, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.asked = append(v.asked, slices.Clone(ids))
	if v.fail != nil {
		return nil, v.fail
	}
	out := map[string]int64{}
	for _, id := range ids {
		if seq, ok := v.applied[id]; ok {
			out[id] = seq
		}
	}
	return out, nil
}

// index is a search index model: hits, newest first, every one matching; it honours After, Limit and Rooms the
// way the search reader does, and counts the reads.
type index struct {
	mu    sync.Mutex
	hits  []app.Hit
	reads []app.SearchQuery
}

func (x *index) Search(_ context.Context, q app.SearchQuery) ([]app.Hit, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.reads = append(x.reads, q)
	var out []app.Hit
	for _, h := range x.hits {
		if len(out) == q.Limit {
			break
		}
		if !slices.Contains(q.Rooms, h.RoomID) {
			continue
		}
		if q.After != nil && !before(h, *q.After) {
			continue
		}
		out = append(out, h)
	}
	return out, nil
}

// before reports whether h comes after the position k in newest-first order.
func before(h app.Hit, k app.MessageKey) bool {
	return h.PostedAt.Before(k.PostedAt) || h.PostedAt.Equal(k.PostedAt) && h.MessageID < k.ID
}

// hitsOf makes n hits in room, newest first, the i-th with seq seqs(i); posted times are all equal in pairs, so
// the id breaks ties as the index's sort does.
func hitsOf(room string, n int, seq func(i int) int64) []app.Hit {
	hits := make([]app.Hit, n)
	for i := range n {
		hits[i] = app.Hit{MessageID: fmt.Sprintf("%s-m%03d", room, n-i), RoomID: room, Seq: seq(i),
			PostedAt: time.Unix(int64(10000-i/2), 0).UTC()}
	}
	return hits
}

func newSearchQueries(t *testing.T, v *laggingViews, x *index) *app.Queries {
	t.Helper()
	q, err := app.New(app.Config{Views: v, ViewsProgress: &progress{applied: 1 << 40}, Search: x,
		SearchProgress: &progress{applied: 1 << 40}})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// ids returns the message ids of hits.
func ids(hits []app.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.MessageID
	}
	return out
}

// TestSearchShowsOnlyWhatTheViewsApplied: the index applied r1 up to seq 30 (a removal, then messages), the
// views only up to 20: hits beyond seq 20 are hidden, those at or below it shown; seq 0 (an old document
// without seq) counts as applied; the applied seqs are read once per read of the index, for its hits' rooms.
func TestSearchShowsOnlyWhatTheViewsApplied(t *testing.T) {
	t.Parallel()
	hits := []app.Hit{
		{MessageID: "m5", RoomID: "r1", Seq: 30, PostedAt: time.Unix(500, 0)},
		{MessageID: "m4", RoomID: "r2", Seq: 7, PostedAt: time.Unix(400, 0)},
		{MessageID: "m3", RoomID: "r1", Seq: 21, PostedAt: time.Unix(300, 0)},
		{MessageID: "m2", RoomID: "r1", Seq: 20, PostedAt: time.Unix(200, 0)},
		{MessageID: "m1", RoomID: "r1", Seq: 0, PostedAt: time.Unix(100, 0)},
	}
	v := &laggingViews{applied: map[string]int64{"r1": 20, "r2": 7}}
	x := &index{hits: hits}
	q := newSearchQueries(t, v, x)
	page, _, err := q.Search(context.Background(), app.Options{Caller: "ann"}, "hi", "", nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(page.Items), []string{"m4", "m2", "m1"}; !slices.Equal(got, want) || page.Next != nil {
		t.Errorf("hits %v next %v, want %v and no next page", got, page.Next, want)
	}
	if len(v.asked) != 1 || !slices.Equal(v.asked[0], []string{"r1", "r2"}) {
		t.Errorf("applied seqs read for %v, want once for [r1 r2]", v.asked)
	}
	// Once the views caught up, the same search shows every hit.
	v.applied["r1"] = 30
	page, _, _ = q.Search(context.Background(), app.Options{Caller: "ann"}, "hi", "", nil, 10)
	if got := ids(page.Items); len(got) != 5 {
		t.Errorf("after the views caught up: hits %v, want all 5", got)
	}
}

// TestSearchPagesStayFullAndWalkEveryVisibleHit pages through rooms where many hits are hidden, at every page
// size: every visible hit comes exactly once, in order, no hidden one ever; a page is short only when it is the
// last or the rounds ran out, and paging always ends.
func TestSearchPagesStayFullAndWalkEveryVisibleHit(t *testing.T) {
	t.Parallel()
	patterns := map[string]func(i int) int64{
		"every third hidden":   func(i int) int64 { return map[bool]int64{true: 99, false: 1}[i%3 == 0] },
		"a hidden run of 40":   func(i int) int64 { return map[bool]int64{true: 99, false: 1}[i >= 5 && i < 45] },
		"all hidden":           func(int) int64 { return 99 },
		"none hidden":          func(int) int64 { return 1 },
		"only the last shown":  func(i int) int64 { return map[bool]int64{true: 1, false: 99}[i == 59] },
		"a hidden run of 1000": func(i int) int64 { return map[bool]int64{true: 99, false: 1}[i >= 10 && i < 1010] },
	}
	for name, seq := range patterns {
		for _, limit := range []int{1, 2, 3, 7, 20} {
			t.Run(fmt.Sprintf("%s/limit %d", name, limit), func(t *testing.T) {
				t.Parallel()
				n := 60
				if name == "a hidden run of 1000" {
					n = 1030
				}
				hits := hitsOf("r1", n, seq)
				var want []string
				for _, h := range hits {
					if h.Seq <= 50 {
						want = append(want, h.MessageID)
					}
				}
				v := &laggingViews{applied: map[string]int64{"r1": 50}}
				q := newSearchQueries(t, v, &index{hits: hits})
				var got []string
				var after *app.MessageKey
				for pages := 0; ; pages++ {
					if pages > n+1 {
						t.Fatalf("paging does not end: %d pages", pages)
					}
					page, _, err := q.Search(context.Background(), app.Options{Caller: "ann"}, "hi", "", after, limit)
					if err != nil {
						t.Fatal(err)
					}
					if len(page.Items) > limit {
						t.Fatalf("page of %d items, limit %d", len(page.Items), limit)
					}
					got = append(got, ids(page.Items)...)
					if page.Next == nil {
						break
					}
					// A short page is allowed only when the visible hits ahead were more than the rounds could
					// reach: then at least the hidden hits it passed over outnumber what one read asks for.
					if len(page.Items) < limit && countHiddenBefore(hits, after, *page.Next) < limit+1 {
						t.Errorf("short page (%d of %d) with few hidden hits behind it", len(page.Items), limit)
					}
					after = page.Next
				}
				if !slices.Equal(got, want) {
					t.Errorf("paged hits = %v\nwant %v", got, want)
				}
			})
		}
	}
}

// countHiddenBefore counts the hidden hits (seq beyond 50) after from and up to to.
func countHiddenBefore(hits []app.Hit, from *app.MessageKey, to app.MessageKey) int {
	n := 0
	for _, h := range hits {
		if (from == nil || before(h, *from)) && !before(h, to) && h.Seq > 50 {
			n++
		}
	}
	return n
}

// TestSearchReadsAreBounded: a page behind a long run of hidden hits reads the index at most four times, then
// answers short with a cursor after the last hit read, which a next page starts from.
func TestSearchReadsAreBounded(t *testing.T) {
	t.Parallel()
	hits := hitsOf("r1", 5000, func(i int) int64 { return map[bool]int64{true: 1, false: 99}[i == 4999] })
	v := &laggingViews{applied: map[string]int64{"r1": 50}}
	x := &index{hits: hits}
	q := newSearchQueries(t, v, x)
	page, _, err := q.Search(context.Background(), app.Options{Caller: "ann"}, "hi", "", nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(x.reads) != 4 || len(v.asked) != 4 {
		t.Errorf("%d index reads and %d applied-seq reads, want 4 each", len(x.reads), len(v.asked))
	}
	read := 0
	for _, r := range x.reads {
		read += r.Limit
	}
	if len(page.Items) != 0 || page.Next == nil || page.Next.ID != hits[read-1].MessageID {
		t.Fatalf("page = %d items, next %+v; want none, next after the %d-th hit %s", len(page.Items), page.Next,
			read, hits[read-1].MessageID)
	}
}

// TestSearchFailsWhenTheViewsCannotVouch: without the views' applied seqs no hit is shown; the error is the
// views', so the answer is a 503.
func TestSearchFailsWhenTheViewsCannotVouch(t *testing.T) {
	t.Parallel()
	v := &laggingViews{applied: map[string]int64{"r1": 50}, fail: fmt.Errorf("%w: dial tcp", app.ErrUnavailable)}
	q := newSearchQueries(t, v, &index{hits: hitsOf("r1", 3, func(int) int64 { return 1 })})
	page, _, err := q.Search(context.Background(), app.Options{Caller: "ann"}, "hi", "", nil, 10)
	if !errors.Is(err, app.ErrUnavailable) || len(page.Items) != 0 {
		t.Errorf("Search = %d hits, %v; want none and ErrUnavailable", len(page.Items), err)
	}
}
