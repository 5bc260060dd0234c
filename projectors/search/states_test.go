package search_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/search"
	"github.com/cqrses-aws/pipeline/schemas"
)

// begin starts a tx and reads the states of ids.
func (f *fixture) begin(t *testing.T, ids ...string) projection.Tx {
	t.Helper()
	tx, err := f.tgt.Begin(ctx(t))
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	if _, err := tx.States(ctx(t), ids); err != nil {
		t.Fatalf("states: %v", err)
	}
	return tx
}

// finish applies events in tx, saves their aggregates' last seqs and commits, returning Commit's error.
func (f *fixture) finish(t *testing.T, tx projection.Tx, events ...projection.Event) error {
	t.Helper()
	err := f.finishErr(t, tx, events...)
	if errors.Is(err, errSetup) {
		t.Fatal(err)
	}
	return err
}

// errSetup marks a failure of finishErr before Commit.
var errSetup = errors.New("apply or save failed")

// finishErr is finish for another goroutine than the test's: a failure of Apply or Save is an errSetup.
func (f *fixture) finishErr(t *testing.T, tx projection.Tx, events ...projection.Event) error {
	next := map[string]projection.State{}
	for _, e := range events {
		next[e.AggregateID] = projection.State{Seq: e.Seq}
	}
	if err := tx.Apply(ctx(t), events); err != nil {
		return fmt.Errorf("%w: %w", errSetup, err)
	}
	if err := tx.Save(ctx(t), next, nil); err != nil {
		return fmt.Errorf("%w: %w", errSetup, err)
	}
	return tx.Commit(ctx(t))
}

// TestConcurrentBatchesOnOtherAggregatesNeverConflict commits two batches read at the same time whose
// aggregates differ, as processes on two partitions do, many times over: first while their state documents do
// not exist (both create theirs), then while they do. Neither ever conflicts nor loses the other's state.
func TestConcurrentBatchesOnOtherAggregatesNeverConflict(t *testing.T) {
	t.Parallel()
	eachClient(t, func(t *testing.T, cl search.Client) {
		f := newFixture(t, cl)
		s := newStream(9)
		r1, r2 := s.newID("room-"), s.newID("room-")
		const rounds = 10
		var all []projection.Event
		for i := range rounds {
			tx1, tx2 := f.begin(t, r1), f.begin(t, r2)
			var b1, b2 []projection.Event
			if i == 0 {
				b1 = []projection.Event{s.ev(r1, &schemas.RoomCreatedV1{Name: "one", CreatedBy: "a"})}
				b2 = []projection.Event{s.ev(r2, &schemas.RoomCreatedV1{Name: "two", CreatedBy: "a"})}
			} else {
				b1 = []projection.Event{
					s.ev(r1, &schemas.RoomRenamedV1{Name: fmt.Sprintf("one %d", i), RenamedBy: "a"}),
					s.ev(r1, &schemas.MessagePostedV1{MessageID: s.newID("msg-"), AuthorID: "a", Text: "x"}),
				}
				b2 = []projection.Event{s.ev(r2, &schemas.RoomRenamedV1{Name: fmt.Sprintf("two %d", i), RenamedBy: "a"})}
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for j, b := range []struct {
				tx     projection.Tx
				events []projection.Event
			}{{tx1, b1}, {tx2, b2}} {
				wg.Go(func() { errs[j] = f.finishErr(t, b.tx, b.events...) })
			}
			wg.Wait()
			for j, err := range errs {
				if err != nil {
					t.Fatalf("round %d: commit of batch %d: %v", i, j+1, err)
				}
			}
			all = append(append(all, b1...), b2...)
		}
		for _, e := range all {
			if err := f.want.Apply(e.Envelope); err != nil {
				t.Fatal(err)
			}
		}
		got := f.check(t)
		if got.Rooms[r1].Name != "one 9" || got.Rooms[r2].Name != "two 9" {
			t.Errorf("rooms = %+v, want both renamed last", got.Rooms)
		}
		if st := f.states(t, r1, r2); st[r1].Seq != 1+2*(rounds-1) || st[r2].Seq != rounds {
			t.Errorf("states = %+v, want %s at %d and %s at %d", st, r1, 1+2*(rounds-1), r2, rounds)
		}
	})
}

// TestConcurrentBatchesOfOneAggregateConflict commits two batches read at the same time on the same aggregate,
// as a process that lost its partition and the one that took it over may: the second fails with
// ErrStateConflict, and its retry from States, as the runner does it, finds the events applied.
func TestConcurrentBatchesOfOneAggregateConflict(t *testing.T) {
	t.Parallel()
	eachClient(t, func(t *testing.T, cl search.Client) {
		f := newFixture(t, cl)
		s := newStream(10)
		room := s.newID("room-")
		f.commit(t, s.ev(room, &schemas.RoomCreatedV1{Name: "r", CreatedBy: "a"}))
		post := s.ev(room, &schemas.MessagePostedV1{MessageID: s.newID("msg-"), AuthorID: "a", Text: "hi"})

		stale, current := f.begin(t, room), f.begin(t, room)
		if err := f.finish(t, current, post); err != nil {
			t.Fatalf("commit: %v", err)
		}
		if err := f.finish(t, stale, post); !errors.Is(err, search.ErrStateConflict) {
			t.Fatalf("commit of the stale batch = %v, want ErrStateConflict", err)
		}
		f.commit(t, post) // the retry
		f.check(t)
		if st := f.states(t, room)[room]; st.Seq != 2 {
			t.Errorf("state = %+v, want seq 2", st)
		}
	})
}

// countingClient counts the requests a Client gets, by method, and the actions of its bulk requests.
type countingClient struct {
	search.Client
	bulk, mget, search, refresh atomic.Int32
	actions                     atomic.Int64
}

func (c *countingClient) Bulk(ctx context.Context, index string, body []byte) ([]byte, error) {
	c.bulk.Add(1)
	// An action line starts with one of these; a JSON string cannot hold them unescaped.
	for _, op := range []string{`{"index":{`, `{"create":{`, `{"delete":{`} {
		c.actions.Add(int64(bytes.Count(body, []byte(op))))
	}
	return c.Client.Bulk(ctx, index, body)
}

// requests returns the number of requests counted so far.
func (c *countingClient) requests() int {
	return int(c.bulk.Load() + c.mget.Load() + c.search.Load() + c.refresh.Load())
}

func (c *countingClient) Mget(ctx context.Context, index string, body []byte) ([]byte, error) {
	c.mget.Add(1)
	return c.Client.Mget(ctx, index, body)
}

func (c *countingClient) Search(ctx context.Context, index string, body []byte) ([]byte, error) {
	c.search.Add(1)
	return c.Client.Search(ctx, index, body)
}

func (c *countingClient) Refresh(ctx context.Context, index string) error {
	c.refresh.Add(1)
	return c.Client.Refresh(ctx, index)
}

// TestAccountsBeforeMessagesTakeFewRequests commits a batch of many account registrations and renames before
// any message, as the runner does at the start of a replay: the batch costs a fixed handful of requests, not
// some per account.
func TestAccountsBeforeMessagesTakeFewRequests(t *testing.T) {
	t.Parallel()
	eachClient(t, func(t *testing.T, cl search.Client) {
		counting := &countingClient{Client: cl}
		f := newFixtureBulk(t, counting, 1000)
		s := newStream(11)
		var events []projection.Event
		for i := range 500 {
			id := fmt.Sprintf("acct-%d", i)
			events = append(events, s.ev(id, &schemas.AccountRegisteredV1{Name: fmt.Sprintf("user %d", i)}))
			if i%2 == 0 {
				events = append(events, s.ev(id, &schemas.AccountRenamedV1{Name: fmt.Sprintf("user %d'", i)}))
			}
		}
		f.commit(t, events...)
		// The renames marker, then the states (one mget each); the new names, the marker, the states (one bulk
		// each); one refresh and one search for messages.
		if b, m, q, r := counting.bulk.Load(), counting.mget.Load(), counting.search.Load(), counting.refresh.Load(); b != 3 || m != 2 || q != 1 || r != 1 {
			t.Errorf("requests: %d bulk, %d mget, %d search, %d refresh; want 3, 2, 1, 1", b, m, q, r)
		}
		f.check(t)
	})
}
