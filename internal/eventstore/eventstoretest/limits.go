package eventstoretest

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
)

// Seeder is an optional interface of a store under test (usually a test's wrapper around it): Seed writes
// events straight into the journal, without Append's transaction. The TenThousandEvents subtest then seeds all
// but the last few events and appends only those, for servers on which a long journal cannot be appended
// through transactions in reasonable time (moto 5 deep-copies the whole table for every item of a
// transaction, so appending 10,000 events takes hours).
type Seeder interface {
	Seed(t *testing.T, events []eventstore.Record)
}

// seederAppends is how many of the 10,000 events a Seeder's store still appends through Append.
const seederAppends = 3

// testTenThousandEvents appends 10,000 events in batches of up to 99 and loads them completely and in order,
// then a tail of them. A Seeder's store gets all but the last seederAppends events seeded.
func testTenThousandEvents(t *testing.T, s eventstore.Store) {
	const aid, total, batch = "room-10k", 10_000, 99
	var from int64
	if seeder, ok := s.(Seeder); ok {
		from = total - seederAppends
		seeder.Seed(t, events(aid, 0, int(from)))
	}
	for seq := from; seq < total; seq += batch {
		n := int(min(batch, total-seq))
		mustAppend(t, s, eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: seq, Events: events(aid, seq, n)})
	}
	recs := mustLoad(t, s, aid, 0)
	wantSeqs(t, recs, 1, total)
	want := events(aid, 0, total)
	for i := range recs {
		if err := sameRecord(recs[i], want[i]); err != nil {
			t.Fatalf("event seq %d: %v", want[i].Seq, err)
		}
	}
	wantSeqs(t, mustLoad(t, s, aid, total-150), total-149, total)
}

// padded returns events whose payloads are JSON strings of about size bytes each.
func padded(aid string, from int64, n, size int) []eventstore.Record {
	evs := events(aid, from, n)
	payload := json.RawMessage(`"` + strings.Repeat("x", size-2) + `"`)
	for i := range evs {
		evs[i].Payload = payload
	}
	return evs
}

// entityWrites returns n entity creations under prefix0, prefix1, …, each with an attribute of size bytes.
func entityWrites(prefix string, n, size int) []eventstore.EntityWrite {
	out := make([]eventstore.EntityWrite, n)
	for i := range out {
		out[i] = created(prefix+strconv.Itoa(i), map[string]string{"text": strings.Repeat("x", size)})
	}
	return out
}

// testTooLarge checks that appends past DynamoDB's limits are refused with ErrTooLarge naming the limit and
// write nothing, and that appends at the limits pass.
func testTooLarge(t *testing.T, s eventstore.Store) {
	clock := ClockFor(t)
	const aid = "room-large"
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: aid, Events: events(aid, 0, 100)})
	idem := func(responseBytes int) *eventstore.IdempotencyRecord {
		return idemRecord("key-large", "hash", make([]byte, responseBytes), clock.Now().Add(time.Hour))
	}
	tests := []struct {
		name  string
		req   eventstore.AppendRequest
		limit string
	}{
		{"101 events", eventstore.AppendRequest{AggregateID: "room-new", Events: events("room-new", 0, 101)}, "items"},
		{"100 events and the seq check", eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: 100,
			Events: events(aid, 100, 100)}, "items"},
		{"99 events, the seq check and a snapshot", eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: 100,
			Events: events(aid, 100, 99), Snapshot: snapshotAt(aid, 199, []byte("s"))}, "items"},
		{"100 events and an idempotency record", eventstore.AppendRequest{AggregateID: "room-new",
			Events: events("room-new", 0, 100), Idempotency: idem(10)}, "items"},
		{"an event over 400 KB", eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: 100,
			Events: padded(aid, 100, 1, 400<<10)}, "400 KB"},
		{"a response over 400 KB", eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: 100,
			Events: events(aid, 100, 1), Idempotency: idem(400 << 10)}, "400 KB"},
		{"11 events of 390 KB", eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: 100,
			Events: padded(aid, 100, 11, 390_000)}, "4 MB"},
		{"98 events, the seq check and 2 entities", eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: 100,
			Events: events(aid, 100, 98), Entities: entityWrites("room-large/msg-", 2, 1)}, "items"},
		{"an entity over 400 KB", eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: 100,
			Events: events(aid, 100, 1), Entities: entityWrites("room-large/msg-", 1, 400<<10)}, "400 KB"},
		{"10 events and 2 entities of 390 KB", eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: 100,
			Events: padded(aid, 100, 10, 390_000), Entities: entityWrites("room-large/msg-", 2, 390_000)}, "4 MB"},
	}
	for _, tt := range tests {
		err := s.Append(ctxFor(t), tt.req)
		if !errors.Is(err, eventstore.ErrTooLarge) {
			t.Errorf("%s: got %v, want ErrTooLarge", tt.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.limit) {
			t.Errorf("%s: error %q does not name the %s limit", tt.name, err, tt.limit)
		}
	}
	wantSeqs(t, mustLoad(t, s, aid, 0), 1, 100)
	if recs := mustLoad(t, s, "room-new", 0); len(recs) != 0 {
		t.Errorf("refused appends wrote %d events", len(recs))
	}
	if rec := mustIdempotency(t, s, "key-large"); rec != nil {
		t.Errorf("a refused append wrote its idempotency record")
	}
	if snap := mustSnapshot(t, s, aid); snap != nil {
		t.Errorf("a refused append wrote its snapshot")
	}
	wantEntity(t, s, "room-large/msg-0", nil)

	// At the limits: 99 events with the seq check; 10 events of 390 KB (3.9 MB).
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: 100, Events: events(aid, 100, 99)})
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: 199, Events: padded(aid, 199, 10, 390_000)})
	recs := mustLoad(t, s, aid, 199)
	wantSeqs(t, recs, 200, 209)
	if len(recs[9].Payload) != 390_000 {
		t.Errorf("a 390,000-byte payload loaded as %d bytes", len(recs[9].Payload))
	}
}
