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
// views applied up to the seq given, so they hold a message of the index only when its post (posted) is at or
// below that seq, with the index's text unless texts says otherwise (an edit the views have not applied); it
// counts the Vouch queries.
type laggingViews struct {
	views
	mu      sync.Mutex
	applied map[string]int64
	posted  map[string]int64   // message id → the room seq of its post
	texts   map[string]string  // message id → the views' text where it differs from the index's
	hits    map[string]app.Hit // the index's documents, by message id
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

func (v *laggingViews) Vouch(_ context.Context, ids []string) (map[string]app.Vouched, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.asked = append(v.asked, slices.Clone(ids))
	if v.fail != nil {
		return nil, v.fail
	}
	out := map[string]app.Vouched{}
	for _, id := range ids {
		h, ok := v.hits[id]
		if !ok || v.posted[id] > v.applied[h.RoomID] {
			continue
		}
		text, edited := v.texts[id]
		if !edited {
			text = h.Text
		}
		out[id] = app.Vouched{RoomID: h.RoomID, RoomName: "views name of " + h.RoomID, Text: text}
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

// hitsOf makes n hits in room, newest first, the i-th posted at room seq seq(i) (returned by message id); posted
// times are all equal in pairs, so the id breaks ties as the index's sort does.
func hitsOf(room string, n int, seq func(i int) int64) ([]app.Hit, map[string]int64) {
	hits := make([]app.Hit, n)
	posted := make(map[string]int64, n)
	for i := range n {
		hits[i] = app.Hit{MessageID: fmt.Sprintf("%s-m%03d", room, n-i), RoomID: room, Text: "hi",
			PostedAt: time.Unix(int64(10000-i/2), 0).UTC()}
		posted[hits[i].MessageID] = seq(i)
	}
	return hits, posted
}

func newSearchQueries(t *testing.T, v *laggingViews, x *index) *app.Queries {
	t.Helper()
	v.hits = map[string]app.Hit{}
	for _, h := range x.hits {
		v.hits[h.MessageID] = h
	}
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

// TestSearchShowsOnlyWhatTheViewsVouchFor: the index applied r1 up to seq 30 (a removal, then messages, then an
// edit of an older message), the views only up to 20: the messages the views do not hold yet are hidden, the
// edited one too (its text in the index is not the views'), the others shown with the room name the views show;
// the views are asked once per read of the index, for its hits.
func TestSearchShowsOnlyWhatTheViewsVouchFor(t *testing.T) {
	t.Parallel()
	hits := []app.Hit{
		{MessageID: "m5", RoomID: "r1", RoomName: "renamed", Text: "hi", PostedAt: time.Unix(500, 0)},
		{MessageID: "m4", RoomID: "r2", Text: "hi", PostedAt: time.Unix(400, 0)},
		{MessageID: "m3", RoomID: "r1", Text: "hi", PostedAt: time.Unix(300, 0)},
		{MessageID: "m2", RoomID: "r1", Text: "hi", PostedAt: time.Unix(200, 0)},
		{MessageID: "m1", RoomID: "r1", Text: "hi edited", PostedAt: time.Unix(100, 0)},
		{MessageID: "m0", RoomID: "r1", RoomName: "renamed", Text: "hi", PostedAt: time.Unix(50, 0)},
	}
	v := &laggingViews{applied: map[string]int64{"r1": 20, "r2": 7},
		posted: map[string]int64{"m5": 30, "m4": 7, "m3": 21, "m2": 20, "m1": 3, "m0": 2},
		texts:  map[string]string{"m1": "hi before the edit"}}
	x := &index{hits: hits}
	q := newSearchQueries(t, v, x)
	page, _, err := q.Search(context.Background(), app.Options{Caller: "ann"}, "hi", "", nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(page.Items), []string{"m4", "m2", "m0"}; !slices.Equal(got, want) || page.Next != nil {
		t.Errorf("hits %v next %v, want %v and no next page", got, page.Next, want)
	}
	if len(page.Items) == 3 && page.Items[2].RoomName != "views name of r1" {
		t.Errorf("hit m0 shows room name %q, want the views' (the index's is a rename the views lack)", page.Items[2].RoomName)
	}
	if len(v.asked) != 1 || !slices.Equal(v.asked[0], ids(hits)) {
		t.Errorf("the views were asked %v, want once for every hit", v.asked)
	}
	// Once the views caught up, the same search shows every hit.
	v.applied["r1"] = 30
	delete(v.texts, "m1")
	page, _, _ = q.Search(context.Background(), app.Options{Caller: "ann"}, "hi", "", nil, 10)
	if got := ids(page.Items); len(got) != 6 {
		t.Errorf("after the views caught up: hits %v, want all 6", got)
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
				hits, posted := hitsOf("r1", n, seq)
				var want []string
				for _, h := range hits {
					if posted[h.MessageID] <= 50 {
						want = append(want, h.MessageID)
					}
				}
				v := &laggingViews{applied: map[string]int64{"r1": 50}, posted: posted}
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
					if len(page.Items) < limit && countHiddenBefore(hits, posted, after, *page.Next) < limit+1 {
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

// countHiddenBefore counts the hidden hits (posted beyond seq 50) after from and up to to.
func countHiddenBefore(hits []app.Hit, posted map[string]int64, from *app.MessageKey, to app.MessageKey) int {
	n := 0
	for _, h := range hits {
		if (from == nil || before(h, *from)) && !before(h, to) && posted[h.MessageID] > 50 {
			n++
		}
	}
	return n
}

// TestSearchReadsAreBounded: a page behind a long run of hidden hits reads the index at most four times, then
// answers short with a cursor after the last hit read, which a next page starts from.
func TestSearchReadsAreBounded(t *testing.T) {
	t.Parallel()
	hits, posted := hitsOf("r1", 5000, func(i int) int64 { return map[bool]int64{true: 1, false: 99}[i == 4999] })
	v := &laggingViews{applied: map[string]int64{"r1": 50}, posted: posted}
	x := &index{hits: hits}
	q := newSearchQueries(t, v, x)
	page, _, err := q.Search(context.Background(), app.Options{Caller: "ann"}, "hi", "", nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(x.reads) != 4 || len(v.asked) != 4 {
		t.Errorf("%d index reads and %d reads of the views, want 4 each", len(x.reads), len(v.asked))
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

// TestSearchFailsWhenTheViewsCannotVouch: without the views' copy of the hits no hit is shown; the error is the
// views', so the answer is a 503.
func TestSearchFailsWhenTheViewsCannotVouch(t *testing.T) {
	t.Parallel()
	v := &laggingViews{applied: map[string]int64{"r1": 50}, fail: fmt.Errorf("%w: dial tcp", app.ErrUnavailable)}
	hits, _ := hitsOf("r1", 3, func(int) int64 { return 1 })
	q := newSearchQueries(t, v, &index{hits: hits})
	page, _, err := q.Search(context.Background(), app.Options{Caller: "ann"}, "hi", "", nil, 10)
	if !errors.Is(err, app.ErrUnavailable) || len(page.Items) != 0 {
		t.Errorf("Search = %d hits, %v; want none and ErrUnavailable", len(page.Items), err)
	}
}
