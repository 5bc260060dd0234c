package eventstoretest

import (
	"bytes"
	"errors"
	"strings"
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

func mustSaveSnapshot(t *testing.T, s eventstore.Store, aid string, seq int64, state []byte) {
	t.Helper()
	if err := s.SaveSnapshot(ctxFor(t), *snapshotAt(aid, seq, state)); err != nil {
		t.Fatalf("save snapshot of %s at seq %d: %v", aid, seq, err)
	}
}

// testSaveSnapshot saves snapshots outside appends: the newest by seq is read, whether an append or
// SaveSnapshot wrote it, and one at the pointer's seq or older leaves it as it is.
func testSaveSnapshot(t *testing.T, s eventstore.Store) {
	const aid = "room-save-snap"
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: aid, Events: events(aid, 0, 3)})
	v2, v3 := []byte("state at 2"), []byte("state at 3")
	mustSaveSnapshot(t, s, aid, 2, v2)
	wantSnapshot(t, s, aid, 2, v2)
	mustSaveSnapshot(t, s, aid, 3, v3)
	wantSnapshot(t, s, aid, 3, v3)
	mustSaveSnapshot(t, s, aid, 2, []byte("older"))
	mustSaveSnapshot(t, s, aid, 3, []byte("same seq"))
	wantSnapshot(t, s, aid, 3, v3)

	// An append's snapshot replaces a saved one of an older seq, and the other way round.
	v4 := []byte("state at 4, appended")
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: 3, Events: events(aid, 3, 1), Snapshot: snapshotAt(aid, 4, v4)})
	wantSnapshot(t, s, aid, 4, v4)
	mustSaveSnapshot(t, s, aid, 4, []byte("saved at 4"))
	mustSaveSnapshot(t, s, aid, 3, []byte("saved at 3"))
	wantSnapshot(t, s, aid, 4, v4)
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: 4, Events: events(aid, 4, 2)})
	v6 := []byte("state at 6, saved")
	mustSaveSnapshot(t, s, aid, 6, v6)
	wantSnapshot(t, s, aid, 6, v6)
	v7 := []byte("state at 7, appended")
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: 6, Events: events(aid, 6, 1), Snapshot: snapshotAt(aid, 7, v7)})
	wantSnapshot(t, s, aid, 7, v7)

	// Large state (through S3 in DynamoDB: 1 MiB is over the item limit), then small, then medium; another
	// aggregate's snapshot is its own.
	const big = aid + "-large"
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: big, Events: events(big, 0, 3)})
	for i, state := range [][]byte{stateOf('a', 1<<20), []byte("small"), stateOf('b', InlineSnapshotMaxBytes+1)} {
		seq := int64(i) + 1
		mustSaveSnapshot(t, s, big, seq, state)
		wantSnapshot(t, s, big, seq, state)
	}
	wantSnapshot(t, s, aid, 7, v7)

	// Malformed snapshots are refused and write nothing.
	const invalid = aid + "-invalid"
	for name, snap := range map[string]eventstore.Snapshot{
		"empty aggregate id":    {Seq: 1, State: []byte("s")},
		"aggregate id too long": {AggregateID: strings.Repeat("r", eventstore.MaxAggregateIDBytes+1), Seq: 1, State: []byte("s")},
		"seq zero":              {AggregateID: invalid, State: []byte("s")},
		"negative seq":          {AggregateID: invalid, Seq: -1, State: []byte("s")},
		"no state":              {AggregateID: invalid, Seq: 1},
	} {
		if err := s.SaveSnapshot(ctxFor(t), snap); !errors.Is(err, eventstore.ErrInvalidAppend) {
			t.Errorf("%s: got %v, want ErrInvalidAppend", name, err)
		}
	}
	if snap := mustSnapshot(t, s, invalid); snap != nil {
		t.Errorf("a malformed snapshot was written: %+v", snap)
	}
}
