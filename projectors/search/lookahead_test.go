package search_test

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"testing"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/schemas"
)

// positioned orders events as the runner applies a replay, accounts first (their renames then cost no rewrite),
// and gives them places on one partition of topic "t", offset = index.
func positioned(events []projection.Event) []projection.Event {
	rank := func(e projection.Event) int {
		if e.AggregateType == schemas.AggregateTypeAccount {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(events, func(a, b projection.Event) int { return cmp.Compare(rank(a), rank(b)) })
	return placed(events)
}

// placed gives events places on one partition of topic "t" in their order, offset = index.
func placed(events []projection.Event) []projection.Event {
	for i := range events {
		events[i].Topic, events[i].Partition, events[i].Offset = "t", 0, int64(i)
	}
	return events
}

// fakeRead is a projection.ReadFunc over events that records the horizons it was asked to read to.
type fakeRead struct {
	events []projection.Event
	asked  []projection.Offsets
}

func (r *fakeRead) read(_ context.Context, until projection.Offsets, types []string, fn func(projection.Event) error) error {
	r.asked = append(r.asked, until)
	for _, e := range r.events {
		if e.Offset < until[e.Topic][e.Partition] && (len(types) == 0 || slices.Contains(types, e.Type)) {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// A prepared build writes message documents with the room names of the horizon: before the horizon the index
// is not a model of any position (nobody reads it then), at and after it the index equals the fold of what was
// applied, and it wrote far fewer documents than a build without a horizon.
func TestPreparedBuildWritesEachMessageOnce(t *testing.T) {
	t.Parallel()
	events := positioned(mixedStream(11, 3000, 25, 15))
	horizonAt := int64(2700)
	horizon := projection.Offsets{"t": {0: horizonAt}}

	build := func(prepare bool) (*fixture, *countingClient) {
		counting := &countingClient{Client: openSearchClient(t)}
		f := newFixtureBulk(t, counting, 500)
		if prepare {
			r := &fakeRead{events: events}
			if err := f.tgt.(projection.Preparer).Prepare(ctx(t), horizon, r.read); err != nil {
				t.Fatalf("prepare: %v", err)
			}
		}
		for i := 0; i < len(events); i += 100 {
			f.commit(t, events[i:min(i+100, len(events))]...)
			if end := int64(i + 100); end >= horizonAt && end < horizonAt+100 {
				f.check(t) // the first batch past the horizon
			}
		}
		f.check(t)
		return f, counting
	}
	_, plain := build(false)
	_, prepared := build(true)
	p, q := prepared.actions.Load(), plain.actions.Load()
	t.Logf("bulk actions: prepared %d, plain %d", p, q)
	if p >= q/2 {
		t.Errorf("the prepared build wrote %d bulk actions, the plain one %d: the renames' rewrites were not saved", p, q)
	}
}

// A prepared build writes each message with its sender's name at the horizon, so that the registrations and
// renames of accounts before the horizon, however they interleave with the messages (in a replay the accounts'
// partitions and the rooms' go at their own paces), cost no rewrite: no batch before the horizon refreshes or
// searches the index, and the index equals the fold at and after the horizon.
func TestPreparedBuildWritesSenderNamesAhead(t *testing.T) {
	t.Parallel()
	events := placed(mixedStream(13, 3000, 25, 15))
	renamedAfterPosts := 0
	posted := map[string]bool{}
	for _, e := range events {
		switch p := e.Payload.(type) {
		case *schemas.MessagePostedV1:
			posted[p.AuthorID] = true
		case *schemas.AccountRenamedV1:
			if posted[e.AggregateID] {
				renamedAfterPosts++
			}
		}
	}
	if renamedAfterPosts < 10 {
		t.Fatalf("only %d renames come after their account's posts: the stream does not test the lookahead", renamedAfterPosts)
	}
	horizonAt := int64(2700)
	counting := &countingClient{Client: openSearchClient(t)}
	f := newFixtureBulk(t, counting, 500)
	r := &fakeRead{events: events}
	if err := f.tgt.(projection.Preparer).Prepare(ctx(t), projection.Offsets{"t": {0: horizonAt}}, r.read); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	counting.refresh.Store(0)
	counting.search.Store(0)
	for i := 0; i < len(events); i += 100 {
		f.commit(t, events[i:min(i+100, len(events))]...)
		if end := int64(i + 100); end == horizonAt {
			if n, m := counting.refresh.Load(), counting.search.Load(); n != 0 || m != 0 {
				t.Errorf("the batches before the horizon refreshed %d and searched %d times, want no rewrite", n, m)
			}
			f.check(t)
		}
	}
	f.check(t)
}

// The horizon is kept by the first Prepare of an empty index: a restarted build reads the same horizon whatever
// it is offered, and an index that holds documents but no horizon is not prepared at all.
func TestPrepareKeepsTheFirstHorizon(t *testing.T) {
	t.Parallel()
	events := positioned(mixedStream(12, 400, 5, 5))
	first := projection.Offsets{"t": {0: 150}, "u": {3: 7}}

	f := newFixture(t, openSearchClient(t))
	r := &fakeRead{events: events}
	if err := f.tgt.(projection.Preparer).Prepare(ctx(t), first, r.read); err != nil {
		t.Fatalf("prepare: %v", err)
	}
	f.commit(t, events[:100]...)
	again, err := f.p.Open(ctx(t), 1)
	if err != nil {
		t.Fatalf("open again: %v", err)
	}
	if err := again.(projection.Preparer).Prepare(ctx(t), projection.Offsets{"t": {0: 400}}, r.read); err != nil {
		t.Fatalf("prepare again: %v", err)
	}
	if len(r.asked) != 2 || !reflect.DeepEqual(r.asked[1], first) {
		t.Fatalf("read to %v, want the first horizon %v twice", r.asked, first)
	}

	unprepared := newFixture(t, openSearchClient(t))
	unprepared.commit(t, events[:100]...)
	r2 := &fakeRead{events: events}
	if err := unprepared.tgt.(projection.Preparer).Prepare(ctx(t), first, r2.read); err != nil {
		t.Fatalf("prepare a started index: %v", err)
	}
	if len(r2.asked) != 0 {
		t.Fatalf("an index built without a horizon was prepared to %v", r2.asked)
	}
	unprepared.commit(t, events[100:]...)
	unprepared.check(t)
}
