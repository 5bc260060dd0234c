package main

import (
	"strings"

	"context"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestModelsEqualTheJournalFoldAndAFreshRebuild runs both projections over a random history of 5,000 events
// (every event type, MemberAdded v1 among them), then delivers 2,000 of them a second time: each model equals
// the fold of the journal's events, before and after the duplicates, and equals a rebuild from offset zero.
func TestModelsEqualTheJournalFoldAndAFreshRebuild(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 6)
	h.produce(5000)
	run := h.start()
	h.waitCaughtUp(3*time.Minute, h.views, h.index)
	h.checkModels("after 5,000 events")

	h.mu.Lock()
	again := append(h.produced[:0:0], h.produced[1000:3000]...)
	h.mu.Unlock()
	h.write(again) // the same events delivered twice (a relay re-publishing after a crash)
	h.waitCaughtUp(3*time.Minute, h.views, h.index)
	h.checkModels("after the duplicates")
	run.Stop(t)

	for _, p := range h.projections() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		v, err := h.sup.Rebuild(ctx, p)
		cancel()
		if want := p.Version() + 1; err != nil || v != want {
			t.Fatalf("rebuild %s = %d, %v; want version %d", p.Name(), v, err, want)
		}
	}
	h.checkModels("after a rebuild from offset zero")
}

// TestRebuildWhileCommandsAndQueriesRun rebuilds both projections while events keep arriving and readers keep
// querying the stable names: every query answers with a complete model (never an empty or half-built one), and
// once the load stops the new versions equal the fold of every event.
func TestRebuildWhileCommandsAndQueriesRun(t *testing.T) {
	// Not parallel: the rebuild must outpace a steady load, so it runs before this package's other heavy tests.
	h := newHarness(t, 4)
	h.produce(2000)
	h.start()
	h.waitCaughtUp(3*time.Minute, h.views, h.index)
	ctx, stopLoad := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var queries, failures atomic.Int64
	var firstFailure atomic.Value
	wg.Add(2)
	go func() { // the commands: about 50 events/s
		defer wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil {
			h.produce(5)
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
	}()
	go func() { // the queries, on the stable names only
		defer wg.Done()
		rooms, messages := 0, 0
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for ; ctx.Err() == nil; <-tick.C {
			err := h.pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM "+pgx.Identifier{h.views.Name(), "rooms"}.Sanitize()+
				"), (SELECT count(*) FROM "+pgx.Identifier{h.views.Name(), "messages"}.Sanitize()+")").Scan(&rooms, &messages)
			if ctx.Err() != nil {
				return
			}
			queries.Add(1)
			if err != nil || rooms < 10 || messages < 600 {
				failures.Add(1)
				firstFailure.CompareAndSwap(nil, [3]any{err, rooms, messages})
			}
			hits, err := h.countMessages(ctx)
			if ctx.Err() == nil && (err != nil || hits < 600) {
				failures.Add(1)
				firstFailure.CompareAndSwap(nil, [3]any{err, "search hits", hits})
			}
		}
	}()
	for _, p := range h.projections() {
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		v, err := h.sup.Rebuild(rctx, p)
		cancel()
		if want := p.Version() + 1; err != nil || v != want {
			stopLoad()
			wg.Wait()
			t.Fatalf("rebuild %s = %d, %v; want version %d", p.Name(), v, err, want)
		}
	}
	stopLoad()
	wg.Wait()
	if n := failures.Load(); n > 0 || queries.Load() < 10 {
		t.Fatalf("%d of %d queries saw no complete model during the rebuild; first: %v", n, queries.Load(), firstFailure.Load())
	}
	h.waitCaughtUp(3*time.Minute, h.views, h.index)
	h.checkModels("after rebuilds under load")
	t.Logf("%d queries answered during the rebuilds", queries.Load())
}

// TestSearchServerDownDoesNotSlowTheViews cuts the search projector off its server for 30 s while events keep
// coming: the views projector catches up meanwhile, the search projector retries (never skips) and catches up
// once the server is back, and both models equal the fold.
func TestSearchServerDownDoesNotSlowTheViews(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 4)
	proxy := testkit.NewProxy(t, strings.TrimPrefix(h.cfg.Search.URL, "http://"))
	h.cfg.Search.URL = "http://" + proxy.Addr()
	h.produce(1000)
	h.start()
	h.waitCaughtUp(3*time.Minute, h.views, h.index)

	proxy.Stop()
	down := time.Now()
	h.produce(3000)
	h.waitCaughtUp(time.Minute, h.views)
	if took := time.Since(down); took > 25*time.Second {
		t.Fatalf("the views took %s to catch up while search was down", took)
	}
	if h.caughtUp(h.index) {
		t.Fatal("the search projector caught up with its server down")
	}
	<-time.After(30*time.Second - time.Since(down)) // the outage lasts 30 s
	proxy.Start()
	h.waitCaughtUp(2*time.Minute, h.index)
	h.checkModels("after the search server came back")
}
