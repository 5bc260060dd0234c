package eventstoretest

import (
	"bytes"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
)

func snapshotAt(aid string, seq int64, state []byte) *eventstore.Snapshot {
	return &eventstore.Snapshot{AggregateID: aid, Seq: seq, State: state}
}

func wantSnapshot(t *testing.T, s eventstore.Store, aid string, seq int64, state []byte) {
	t.Helper()
	snap := mustSnapshot(t, s, aid)
	if snap == nil {
		t.Fatalf("no snapshot of %s, want seq %d", aid, seq)
	}
	if snap.AggregateID != aid || snap.Seq != seq || !bytes.Equal(snap.State, state) {
		t.Fatalf("snapshot of %s is %s at seq %d with %d bytes, want seq %d with %d bytes (same content: %t)",
			aid, snap.AggregateID, snap.Seq, len(snap.State), seq, len(state), bytes.Equal(snap.State, state))
	}
}

// testSnapshotLatestWins writes small (inline) snapshots with appends: the newest is the one read, and appends
// without a snapshot leave it alone.
func testSnapshotLatestWins(t *testing.T, s eventstore.Store) {
	const aid = "room-snap"
	if snap := mustSnapshot(t, s, aid); snap != nil {
		t.Fatalf("snapshot before any append: %+v", snap)
	}
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: aid, Events: events(aid, 0, 1)})
	if snap := mustSnapshot(t, s, aid); snap != nil {
		t.Fatalf("snapshot after an append without one: %+v", snap)
	}
	v2 := []byte(`{"version":2,"members":["acc-1"]}`)
	mustAppend(t, s, eventstore.AppendRequest{
		AggregateID: aid, ExpectedSeq: 1, Events: events(aid, 1, 1), Snapshot: snapshotAt(aid, 2, v2),
	})
	wantSnapshot(t, s, aid, 2, v2)

	mustAppend(t, s, eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: 2, Events: events(aid, 2, 2)})
	wantSnapshot(t, s, aid, 2, v2)

	v6 := []byte{0, 1, 2, 0xff, 0xfe, '\n', 0}
	mustAppend(t, s, eventstore.AppendRequest{
		AggregateID: aid, ExpectedSeq: 4, Events: events(aid, 4, 2), Snapshot: snapshotAt(aid, 6, v6),
	})
	wantSnapshot(t, s, aid, 6, v6)

	// A snapshot of another aggregate is its own.
	other := []byte("other")
	mustAppend(t, s, eventstore.AppendRequest{
		AggregateID: aid + "-2", Events: events(aid+"-2", 0, 1), Snapshot: snapshotAt(aid+"-2", 1, other),
	})
	wantSnapshot(t, s, aid, 6, v6)
	wantSnapshot(t, s, aid+"-2", 1, other)

	// A conflicting append's snapshot is not written.
	err := s.Append(ctxFor(t), eventstore.AppendRequest{
		AggregateID: aid, ExpectedSeq: 5, Events: events(aid, 5, 1), Snapshot: snapshotAt(aid, 6, []byte("stale")),
	})
	if err == nil {
		t.Fatal("a stale append with a snapshot succeeded")
	}
	wantSnapshot(t, s, aid, 6, v6)
}

// testLargeSnapshot writes snapshots over the inline bound (through S3 in DynamoDB), 1 MiB ones over the item
// limit, and small ones in between: each is read back whole and the newest wins.
func testLargeSnapshot(t *testing.T, s eventstore.Store) {
	const aid = "room-large-snap"
	steps := []struct {
		events int
		state  []byte
	}{
		{1, stateOf('a', 1<<20)},
		{2, stateOf('b', 8<<10)},
		{1, []byte("small")},
		{3, stateOf('c', 1<<20+7)},
		{1, stateOf('d', InlineSnapshotMaxBytes+1)},
	}
	var seq int64
	for _, st := range steps {
		mustAppend(t, s, eventstore.AppendRequest{
			AggregateID: aid, ExpectedSeq: seq, Events: events(aid, seq, st.events),
			Snapshot: snapshotAt(aid, seq+int64(st.events), st.state),
		})
		seq += int64(st.events)
		wantSnapshot(t, s, aid, seq, st.state)
	}

	// A large snapshot of a conflicting append is not what LatestSnapshot returns, and retrying the same seq
	// after the conflict works.
	large := stateOf('e', 512<<10)
	err := s.Append(ctxFor(t), eventstore.AppendRequest{
		AggregateID: aid, ExpectedSeq: seq - 1, Events: events(aid, seq-1, 2), Snapshot: snapshotAt(aid, seq+1, large),
	})
	if err == nil {
		t.Fatal("a stale append with a large snapshot succeeded")
	}
	wantSnapshot(t, s, aid, seq, steps[len(steps)-1].state)
	mustAppend(t, s, eventstore.AppendRequest{
		AggregateID: aid, ExpectedSeq: seq, Events: events(aid, seq, 1), Snapshot: snapshotAt(aid, seq+1, large),
	})
	wantSnapshot(t, s, aid, seq+1, large)
}
