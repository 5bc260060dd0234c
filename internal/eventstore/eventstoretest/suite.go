// Package eventstoretest is the contract suite every eventstore.Store implementation passes.
package eventstoretest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
)

// Run runs the contract suite against the stores newStore returns: one fresh, empty store per subtest, whose
// clock is ClockFor(t).Now and, for DynamoDB, whose inline snapshot bound is InlineSnapshotMaxBytes. Subtests
// run in parallel.
func Run(t *testing.T, newStore func(t *testing.T) eventstore.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s eventstore.Store)
	}{
		{"AppendLoadRoundTrip", testRoundTrip},
		{"LoadAfterSeq", testLoadAfterSeq},
		{"EventBySeq", testEventBySeq},
		{"LoadUpTo", testLoadUpTo},
		{"UnknownAggregateLoadsEmpty", testUnknownAggregate},
		{"ConcurrentAppendersConflict", testConcurrentConflict},
		{"StaleOrAheadAppendConflicts", testStaleAppend},
		{"InvalidRequests", testInvalidRequests},
		{"SnapshotInlineLatestWins", testSnapshotLatestWins},
		{"LargeSnapshot", testLargeSnapshot},
		{"SaveSnapshot", testSaveSnapshot},
		{"Entities", testEntities},
		{"EntityExists", testEntityExists},
		{"EntityInvalid", testEntityInvalid},
		{"IdempotencyWrittenAtomically", testIdempotencyAtomic},
		{"IdempotencyKeyExists", testIdempotencyKeyExists},
		{"ExpiredIdempotencyReplaceable", testIdempotencyExpiry},
		{"TenThousandEvents", testTenThousandEvents},
		{"TooLarge", testTooLarge},
		{"CancelledContext", testCancelledContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newStore(t))
		})
	}
}

func testRoundTrip(t *testing.T, s eventstore.Store) {
	tokyo := time.FixedZone("JST", 9*60*60)
	want := []eventstore.Record{
		{
			AggregateID: "room-01", AggregateType: "room", Seq: 1, Type: "RoomCreated", Version: 1,
			EventID: "evt-1", OccurredAt: time.Date(2026, 11, 25, 21, 0, 0, 123456789, tokyo),
			CorrelationID: "corr-1", CausationID: "cause-1", CommandID: "cmd-1",
			TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			Payload:     json.RawMessage(`{"name": "雑談", "by": {"id": "acc-1"}, "tags": [1, 2.5, true, null]}`),
		},
		{
			AggregateID: "room-01", AggregateType: "room", Seq: 2, Type: "MessagePosted", Version: 3,
			EventID: "evt-2", OccurredAt: time.Date(2026, 11, 25, 12, 0, 1, 1, time.UTC),
			Payload: json.RawMessage(`{"text":"line one\nline two\t\"quoted\" \\ 明日"}`),
		},
		{
			AggregateID: "room-01", AggregateType: "room", Seq: 3, Type: "RoomDeleted", Version: 1,
			EventID: "evt-3", OccurredAt: time.Date(2026, 11, 25, 12, 0, 2, 0, time.UTC),
			Payload: json.RawMessage(`{}`),
		},
	}
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: "room-01", Events: want[:2]})
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: "room-01", ExpectedSeq: 2, Events: want[2:]})
	got := mustLoad(t, s, "room-01", 0)
	if len(got) != len(want) {
		t.Fatalf("loaded %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if err := sameRecord(got[i], want[i]); err != nil {
			t.Errorf("event seq %d: %v", want[i].Seq, err)
		}
		if got[i].OccurredAt.Nanosecond() != want[i].OccurredAt.Nanosecond() {
			t.Errorf("event seq %d: nanoseconds %d, want %d", want[i].Seq, got[i].OccurredAt.Nanosecond(),
				want[i].OccurredAt.Nanosecond())
		}
	}
	// The loaded records are the caller's own: changing them must not change the journal.
	got[0].Payload[0] = '['
	if again := mustLoad(t, s, "room-01", 0); !sameJSON(again[0].Payload, want[0].Payload) {
		t.Errorf("changing a loaded payload changed the stored one: %s", again[0].Payload)
	}
}

func testLoadAfterSeq(t *testing.T, s eventstore.Store) {
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: "room-a", Events: events("room-a", 0, 5)})
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: "room-b", Events: events("room-b", 0, 2)})
	tests := []struct {
		aid         string
		after       int64
		first, last int64
	}{
		{"room-a", 0, 1, 5},
		{"room-a", 2, 3, 5},
		{"room-a", 4, 5, 5},
		{"room-a", 5, 6, 5},
		{"room-a", 99, 100, 5},
		{"room-b", 0, 1, 2},
		{"room-b", 1, 2, 2},
	}
	for _, tt := range tests {
		recs := mustLoad(t, s, tt.aid, tt.after)
		wantSeqs(t, recs, tt.first, tt.last)
		for _, r := range recs {
			if r.AggregateID != tt.aid {
				t.Errorf("load %s returned an event of %s", tt.aid, r.AggregateID)
			}
		}
	}
}

func testEventBySeq(t *testing.T, s eventstore.Store) {
	evs := events("room-e", 0, 3)
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: "room-e", Events: evs})
	for _, want := range evs {
		got, err := s.Event(ctxFor(t), "room-e", want.Seq)
		if err != nil || got == nil {
			t.Fatalf("Event(room-e, %d) = %v, %v", want.Seq, got, err)
		}
		if err := sameRecord(*got, want); err != nil {
			t.Errorf("Event(room-e, %d): %v", want.Seq, err)
		}
	}
	for _, tt := range []struct {
		aid string
		seq int64
	}{{"room-e", 0}, {"room-e", 4}, {"room-e", -1}, {"room-unknown", 1}, {"", 1}} {
		if got, err := s.Event(ctxFor(t), tt.aid, tt.seq); err != nil || got != nil {
			t.Errorf("Event(%q, %d) = %v, %v; want nil, nil", tt.aid, tt.seq, got, err)
		}
	}
}

func testLoadUpTo(t *testing.T, s eventstore.Store) {
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: "room-u", Events: events("room-u", 0, 5)})
	for _, tt := range []struct {
		after       int64
		max         int
		first, last int64
		complete    bool
	}{
		{0, 5, 1, 5, true}, {0, 4, 1, 4, false}, {0, 1, 1, 1, false}, {3, 2, 4, 5, true}, {3, 1, 4, 4, false},
		{5, 3, 6, 5, true}, {0, 100, 1, 5, true},
	} {
		recs, complete, err := s.LoadUpTo(ctxFor(t), "room-u", tt.after, tt.max)
		if err != nil {
			t.Fatalf("LoadUpTo(after %d, max %d): %v", tt.after, tt.max, err)
		}
		wantSeqs(t, recs, tt.first, tt.last)
		if complete != tt.complete {
			t.Errorf("LoadUpTo(after %d, max %d): complete %t, want %t", tt.after, tt.max, complete, tt.complete)
		}
	}
	if _, _, err := s.LoadUpTo(ctxFor(t), "room-u", 0, 0); !errors.Is(err, eventstore.ErrInvalidAppend) {
		t.Errorf("LoadUpTo(max 0) = %v, want ErrInvalidAppend", err)
	}
}

func testUnknownAggregate(t *testing.T, s eventstore.Store) {
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: "room-known", Events: events("room-known", 0, 1)})
	for _, aid := range []string{"room-unknown", "room-know", "room-known-2", ""} {
		if recs := mustLoad(t, s, aid, 0); len(recs) != 0 {
			t.Errorf("load %q returned %d events, want none", aid, len(recs))
		}
		if snap := mustSnapshot(t, s, aid); snap != nil {
			t.Errorf("snapshot of %q = %+v, want none", aid, snap)
		}
	}
	for _, key := range []string{"no-such-key", ""} {
		if rec := mustIdempotency(t, s, key); rec != nil {
			t.Errorf("idempotency record %q = %+v, want none", key, rec)
		}
		if attrs := mustEntity(t, s, key); attrs != nil {
			t.Errorf("entity %q = %v, want none", key, attrs)
		}
	}
}

// testConcurrentConflict races two appenders at the same ExpectedSeq, several rounds: exactly one wins each
// round, the other gets a ConflictError, and the journal holds the winner's event only.
func testConcurrentConflict(t *testing.T, s eventstore.Store) {
	const aid, rounds = "room-race", 5
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: aid, Events: events(aid, 0, 1)})
	for round := range rounds {
		expected := int64(round) + 1
		reqs := [2]eventstore.AppendRequest{}
		for i := range reqs {
			evs := events(aid, expected, 1)
			evs[0].EventID = evs[0].EventID + []string{"-left", "-right"}[i]
			reqs[i] = eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: expected, Events: evs}
		}
		var (
			errs  [2]error
			start = make(chan struct{})
			wg    sync.WaitGroup
		)
		for i := range reqs {
			wg.Go(func() {
				<-start
				errs[i] = s.Append(ctxFor(t), reqs[i])
			})
		}
		close(start)
		wg.Wait()

		winner := -1
		for i, err := range errs {
			if err == nil {
				if winner >= 0 {
					t.Fatalf("round %d: both appenders at seq %d won", round, expected)
				}
				winner = i
				continue
			}
			var conflict *eventstore.ConflictError
			if !errors.Is(err, eventstore.ErrVersionConflict) || !errors.As(err, &conflict) {
				t.Fatalf("round %d: loser got %v, want a version conflict", round, err)
			}
			if conflict.AggregateID != aid || conflict.Seq != expected+1 {
				t.Errorf("round %d: conflict names %s seq %d, want %s seq %d", round, conflict.AggregateID,
					conflict.Seq, aid, expected+1)
			}
			if msg := err.Error(); !strings.Contains(msg, aid) || !strings.Contains(msg, "seq") {
				t.Errorf("round %d: conflict message %q lacks the aggregate id or seq", round, msg)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no appender won: %v", round, errs)
		}
		recs := mustLoad(t, s, aid, 0)
		wantSeqs(t, recs, 1, expected+1)
		if got, want := recs[expected].EventID, reqs[winner].Events[0].EventID; got != want {
			t.Fatalf("round %d: journal holds %s at seq %d, want the winner's %s", round, got, expected+1, want)
		}
	}
}

// testStaleAppend appends behind and ahead of the journal: both are conflicts and write nothing.
func testStaleAppend(t *testing.T, s eventstore.Store) {
	const aid = "room-stale"
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: aid, Events: events(aid, 0, 3)})
	tests := []struct {
		name     string
		expected int64
		n        int
		wantSeq  int64
	}{
		{"from the start", 0, 1, 1},
		{"one behind", 2, 2, 3},
		{"ahead, leaving a gap", 4, 1, 4},
		{"far ahead", 10, 3, 10},
	}
	for _, tt := range tests {
		err := s.Append(ctxFor(t), eventstore.AppendRequest{
			AggregateID: aid, ExpectedSeq: tt.expected, Events: events(aid, tt.expected, tt.n),
		})
		var conflict *eventstore.ConflictError
		if !errors.As(err, &conflict) || !errors.Is(err, eventstore.ErrVersionConflict) {
			t.Fatalf("%s: got %v, want a version conflict", tt.name, err)
		}
		if conflict.Seq != tt.wantSeq || conflict.ExpectedSeq != tt.expected {
			t.Errorf("%s: conflict at seq %d expecting %d, want seq %d expecting %d", tt.name, conflict.Seq,
				conflict.ExpectedSeq, tt.wantSeq, tt.expected)
		}
	}
	wantSeqs(t, mustLoad(t, s, aid, 0), 1, 3)
	for i, r := range mustLoad(t, s, aid, 0) {
		if want := events(aid, 0, 3)[i].EventID; r.EventID != want {
			t.Errorf("seq %d holds %s, want the first append's %s", r.Seq, r.EventID, want)
		}
	}
}

func testInvalidRequests(t *testing.T, s eventstore.Store) {
	const aid = "room-invalid"
	ok := func() eventstore.AppendRequest {
		return eventstore.AppendRequest{AggregateID: aid, Events: events(aid, 0, 3)}
	}
	tests := []struct {
		name   string
		change func(r *eventstore.AppendRequest)
	}{
		{"no events", func(r *eventstore.AppendRequest) { r.Events = nil }},
		{"empty aggregate id", func(r *eventstore.AppendRequest) { r.AggregateID = "" }},
		{"negative expected seq", func(r *eventstore.AppendRequest) { r.ExpectedSeq = -1 }},
		{"first seq is not expected+1", func(r *eventstore.AppendRequest) { r.ExpectedSeq = 1 }},
		{"seqs start at zero", func(r *eventstore.AppendRequest) { r.Events = events(aid, -1, 3) }},
		{"seq gap", func(r *eventstore.AppendRequest) { r.Events[2].Seq = 4 }},
		{"seq repeated", func(r *eventstore.AppendRequest) { r.Events[1].Seq = 1 }},
		{"event of another aggregate", func(r *eventstore.AppendRequest) { r.Events[1].AggregateID = "room-other" }},
		{"event without type", func(r *eventstore.AppendRequest) { r.Events[0].Type = "" }},
		{"event without id", func(r *eventstore.AppendRequest) { r.Events[0].EventID = "" }},
		{"event without aggregate type", func(r *eventstore.AppendRequest) { r.Events[0].AggregateType = "" }},
		{"schema version zero", func(r *eventstore.AppendRequest) { r.Events[0].Version = 0 }},
		{"payload not JSON", func(r *eventstore.AppendRequest) { r.Events[2].Payload = json.RawMessage(`{"a":`) }},
		{"payload empty", func(r *eventstore.AppendRequest) { r.Events[2].Payload = nil }},
		{"field not UTF-8", func(r *eventstore.AppendRequest) { r.Events[0].CommandID = "cmd-\xff" }},
		{"snapshot not at the last seq", func(r *eventstore.AppendRequest) {
			r.Snapshot = &eventstore.Snapshot{AggregateID: aid, Seq: 2, State: []byte("s")}
		}},
		{"snapshot of another aggregate", func(r *eventstore.AppendRequest) {
			r.Snapshot = &eventstore.Snapshot{AggregateID: "room-other", Seq: 3, State: []byte("s")}
		}},
		{"snapshot without state", func(r *eventstore.AppendRequest) {
			r.Snapshot = &eventstore.Snapshot{AggregateID: aid, Seq: 3}
		}},
		{"idempotency without key", func(r *eventstore.AppendRequest) {
			r.Idempotency = &eventstore.IdempotencyRecord{RequestHash: "h", ExpiresAt: Epoch.Add(time.Hour)}
		}},
		{"idempotency without expiry", func(r *eventstore.AppendRequest) {
			r.Idempotency = &eventstore.IdempotencyRecord{Key: "k", RequestHash: "h"}
		}},
	}
	for _, tt := range tests {
		req := ok()
		tt.change(&req)
		err := s.Append(ctxFor(t), req)
		if !errors.Is(err, eventstore.ErrInvalidAppend) {
			t.Errorf("%s: got %v, want ErrInvalidAppend", tt.name, err)
		}
	}
	if recs := mustLoad(t, s, aid, 0); len(recs) != 0 {
		t.Errorf("invalid appends wrote %d events", len(recs))
	}
	if snap := mustSnapshot(t, s, aid); snap != nil {
		t.Errorf("invalid appends wrote a snapshot at seq %d", snap.Seq)
	}
	if rec := mustIdempotency(t, s, "k"); rec != nil {
		t.Errorf("invalid appends wrote an idempotency record")
	}
	mustAppend(t, s, ok())
}

// testCancelledContext checks that every call on an ended context returns the context's error and writes
// nothing.
func testCancelledContext(t *testing.T, s eventstore.Store) {
	const aid = "room-cancelled"
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Append(ctx, eventstore.AppendRequest{AggregateID: aid, Events: events(aid, 0, 1)}); !errors.Is(err, context.Canceled) {
		t.Errorf("append: got %v, want context.Canceled", err)
	}
	if _, err := s.Load(ctx, aid, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("load: got %v, want context.Canceled", err)
	}
	if _, err := s.LatestSnapshot(ctx, aid); !errors.Is(err, context.Canceled) {
		t.Errorf("latest snapshot: got %v, want context.Canceled", err)
	}
	if _, err := s.Idempotency(ctx, "key"); !errors.Is(err, context.Canceled) {
		t.Errorf("idempotency: got %v, want context.Canceled", err)
	}
	if _, err := s.Entity(ctx, "key"); !errors.Is(err, context.Canceled) {
		t.Errorf("entity: got %v, want context.Canceled", err)
	}
	for _, state := range [][]byte{[]byte("small"), stateOf('c', 1<<20)} {
		if err := s.SaveSnapshot(ctx, *snapshotAt(aid, 1, state)); !errors.Is(err, context.Canceled) {
			t.Errorf("save snapshot of %d bytes: got %v, want context.Canceled", len(state), err)
		}
	}
	if recs := mustLoad(t, s, aid, 0); len(recs) != 0 {
		t.Errorf("an append on a cancelled context wrote %d events", len(recs))
	}
	if snap := mustSnapshot(t, s, aid); snap != nil {
		t.Errorf("a snapshot saved on a cancelled context was written")
	}
}
