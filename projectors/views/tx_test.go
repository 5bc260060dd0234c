package views_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/readmodel"
	"github.com/cqrses-aws/pipeline/projectors/views"
)

func TestStatesSaveOffsetsRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	pool := newPool(t)
	p := newProjection(t, pool)
	target := open(t, p, 1)

	offsets, err := target.Offsets(ctx)
	if err != nil || len(offsets) != 0 {
		t.Fatalf("offsets of a new target = %v, %v; want empty", offsets, err)
	}
	tx := begin(t, target)
	states, err := tx.States(ctx, []string{"b", "a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if len(states) != 2 || states["a"] != (projection.State{}) || states["b"] != (projection.State{}) {
		t.Fatalf("states of new aggregates = %v, want two zero states", states)
	}
	next := projection.Offsets{}
	next.Set("p.room.events", 0, 10)
	next.Set("p.room.events", 3, 7)
	next.Set("p.account.events", 1, 2)
	saved := map[string]projection.State{"a": {Seq: 4}, "b": {Seq: 9, Parked: true}}
	if err := tx.Save(ctx, saved, next); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatalf("rollback after commit: %v", err)
	}

	tx = begin(t, target)
	states, err = tx.States(ctx, []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	if states["a"] != saved["a"] || states["b"] != saved["b"] || states["c"] != (projection.State{}) {
		t.Fatalf("states = %v, want %v and a zero c", states, saved)
	}
	// A later Save overwrites seqs and offsets, and leaves the partitions it does not name.
	more := projection.Offsets{}
	more.Set("p.room.events", 0, 12)
	if err := tx.Save(ctx, map[string]projection.State{"b": {Seq: 10}}, more); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	next.Set("p.room.events", 0, 12)
	offsets, err = target.Offsets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	assertOffsets(t, offsets, next)
}

func TestRollbackLeavesNothing(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	pool := newPool(t)
	p := newProjection(t, pool)
	target := open(t, p, 1)
	j, events := everyEventType(t)

	tx := begin(t, target)
	if _, err := tx.States(ctx, []string{"acc-a", "room-1"}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Apply(ctx, events); err != nil {
		t.Fatal(err)
	}
	next := projection.Offsets{}
	next.Set("t.room", 0, 100)
	if err := tx.Save(ctx, map[string]projection.State{"room-1": {Seq: 10}}, next); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	assertModel(t, pool, p, 1, readmodel.New())
	offsets, err := target.Offsets(ctx)
	if err != nil || len(offsets) != 0 {
		t.Fatalf("offsets after rollback = %v, %v; want none", offsets, err)
	}
	var aggregates int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+target.(*views.Target).Schema()+".aggregates").Scan(&aggregates); err != nil || aggregates != 0 {
		t.Fatalf("%d aggregate rows after rollback (%v), want 0", aggregates, err)
	}
	// The same batch applies in full afterwards.
	applyBatch(t, target, events)
	assertModel(t, pool, p, 1, j.model())
}

// TestConcurrentTxOnOneAggregateSerialize checks that a second States on the same aggregates, known or new,
// waits for the first transaction to commit and then reads what it saved.
func TestConcurrentTxOnOneAggregateSerialize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		known bool
	}{{"stored aggregate", true}, {"new aggregate", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			pool := newPool(t)
			p := newProjection(t, pool)
			target := open(t, p, 1)
			if tc.known {
				saveState(t, target, "room-1", 3)
			}

			first := begin(t, target)
			if _, err := first.States(ctx, []string{"room-1"}); err != nil {
				t.Fatal(err)
			}
			second := begin(t, target)
			type result struct {
				states map[string]projection.State
				err    error
			}
			done := make(chan result, 1)
			go func() {
				states, err := second.States(ctx, []string{"room-1", "room-2"})
				done <- result{states, err}
			}()
			waitForLockWait(t, pool, target.(*views.Target).Schema())
			select {
			case r := <-done:
				t.Fatalf("second States returned %v, %v while the first transaction was open", r.states, r.err)
			default:
			}
			if err := first.Save(ctx, map[string]projection.State{"room-1": {Seq: 5}}, nil); err != nil {
				t.Fatal(err)
			}
			if err := first.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			select {
			case r := <-done:
				if r.err != nil || r.states["room-1"].Seq != 5 {
					t.Fatalf("second States = %v, %v; want room-1 at seq 5", r.states, r.err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("second States still blocked 10 s after the first transaction committed")
			}
		})
	}
}

// TestNameAndMessageInConcurrentTx checks the denormalized name when an account's registration and a message
// of its author are applied by two transactions at once, whichever commits first.
func TestNameAndMessageInConcurrentTx(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		accountsFirst bool
	}{{"registration first", true}, {"message first", false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			pool := newPool(t)
			p := newProjection(t, pool)
			target := open(t, p, 1)
			j := newJournal(t)
			applyBatch(t, target, []projection.Event{j.createRoom("room-1", "general", "acc-b")})
			reg := []projection.Event{j.register("acc-a", "Alice")}
			post := []projection.Event{j.post("room-1", "msg-1", "acc-a", "hi")}

			firstEvents, secondEvents := reg, post
			if !tc.accountsFirst {
				firstEvents, secondEvents = post, reg
			}
			first := begin(t, target)
			if err := first.Apply(ctx, firstEvents); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- tryBatch(ctx, target, secondEvents) }()
			waitForLockWait(t, pool, target.(*views.Target).Schema())
			if err := first.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("second batch still blocked 10 s after the first committed")
			}
			assertModel(t, pool, p, 1, j.model())
		})
	}
}

func begin(tb testing.TB, target projection.Target) projection.Tx {
	tb.Helper()
	tx, err := target.Begin(testContext(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	return tx
}

func saveState(tb testing.TB, target projection.Target, id string, seq int64) {
	tb.Helper()
	ctx := testContext(tb)
	tx := begin(tb, target)
	if err := tx.Save(ctx, map[string]projection.State{id: {Seq: seq}}, nil); err != nil {
		tb.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		tb.Fatal(err)
	}
}

// waitForLockWait waits until a statement on schema is blocked on a lock, failing the test after a deadline.
func waitForLockWait(tb testing.TB, pool *pgxpool.Pool, schema string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		var waiting bool
		err := pool.QueryRow(testContext(tb), `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND strpos(query, $1) > 0)`, schema).Scan(&waiting)
		if err != nil {
			tb.Fatalf("read pg_stat_activity: %v", err)
		}
		if waiting {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no statement on %s waited for a lock within 10 s", schema)
		}
		<-tick.C
	}
}

func assertOffsets(tb testing.TB, got, want projection.Offsets) {
	tb.Helper()
	n := 0
	for topic, parts := range want {
		for part, next := range parts {
			n++
			if got[topic][part] != next {
				tb.Errorf("offset of %s/%d = %d, want %d", topic, part, got[topic][part], next)
			}
		}
	}
	m := 0
	for _, parts := range got {
		m += len(parts)
	}
	if m != n {
		tb.Errorf("%d offsets stored (%v), want %d", m, got, n)
	}
}
