package eventstoretest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
)

// InlineSnapshotMaxBytes is the inline snapshot bound a DynamoDB store under the suite should be given (1 KiB),
// so that the suite's medium snapshots take the S3 path too; its large ones (1 MiB) take it under any bound.
const InlineSnapshotMaxBytes = 1 << 10

// callTimeout bounds each store call the suite makes.
const callTimeout = 2 * time.Minute

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

// events returns n events of aggregate aid with seqs from+1 … from+n, all fields set.
func events(aid string, from int64, n int) []eventstore.Record {
	out := make([]eventstore.Record, n)
	for i := range out {
		seq := from + int64(i) + 1
		out[i] = eventstore.Record{
			AggregateID: aid, AggregateType: "room", Seq: seq, Type: "MessagePosted", Version: 1,
			EventID:       fmt.Sprintf("evt-%s-%d", aid, seq),
			OccurredAt:    Epoch.Add(time.Duration(seq) * time.Millisecond),
			CorrelationID: "corr-" + aid, CausationID: "cmd-" + aid, CommandID: "cmd-" + aid,
			TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			Payload:     json.RawMessage(fmt.Sprintf(`{"seq":%d,"text":"message %d"}`, seq, seq)),
		}
	}
	return out
}

func mustAppend(t *testing.T, s eventstore.Store, req eventstore.AppendRequest) {
	t.Helper()
	if err := s.Append(ctxFor(t), req); err != nil {
		t.Fatalf("append %d events to %s after %d: %v", len(req.Events), req.AggregateID, req.ExpectedSeq, err)
	}
}

func mustLoad(t *testing.T, s eventstore.Store, aid string, after int64) []eventstore.Record {
	t.Helper()
	recs, err := s.Load(ctxFor(t), aid, after)
	if err != nil {
		t.Fatalf("load %s after %d: %v", aid, after, err)
	}
	return recs
}

func mustSnapshot(t *testing.T, s eventstore.Store, aid string) *eventstore.Snapshot {
	t.Helper()
	snap, err := s.LatestSnapshot(ctxFor(t), aid)
	if err != nil {
		t.Fatalf("latest snapshot of %s: %v", aid, err)
	}
	return snap
}

func mustIdempotency(t *testing.T, s eventstore.Store, key string) *eventstore.IdempotencyRecord {
	t.Helper()
	rec, err := s.Idempotency(ctxFor(t), key)
	if err != nil {
		t.Fatalf("idempotency record %s: %v", key, err)
	}
	return rec
}

// wantSeqs fails unless recs are exactly the events of seqs first … last, in order.
func wantSeqs(t *testing.T, recs []eventstore.Record, first, last int64) {
	t.Helper()
	want := int(max(last-first+1, 0))
	if len(recs) != want {
		t.Fatalf("loaded %d events, want %d (seq %d to %d)", len(recs), want, first, last)
	}
	for i, r := range recs {
		if r.Seq != first+int64(i) {
			t.Fatalf("event %d has seq %d, want %d", i, r.Seq, first+int64(i))
		}
	}
}

// sameRecord reports how got differs from want: every field equal, the payload as JSON, the time to the
// nanosecond.
func sameRecord(got, want eventstore.Record) error {
	if !sameJSON(got.Payload, want.Payload) {
		return fmt.Errorf("payload %s, want %s", got.Payload, want.Payload)
	}
	if !got.OccurredAt.Equal(want.OccurredAt) {
		return fmt.Errorf("occurred at %s, want %s", got.OccurredAt.Format(time.RFC3339Nano),
			want.OccurredAt.Format(time.RFC3339Nano))
	}
	got.Payload, want.Payload = nil, nil
	got.OccurredAt, want.OccurredAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("got %+v, want %+v", got, want)
	}
	return nil
}

func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(x, y)
}

// stateOf returns n bytes of deterministic, incompressible-looking state tagged by tag.
func stateOf(tag byte, n int) []byte {
	b := make([]byte, n)
	x := uint32(tag)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	b[0] = tag
	return b
}
