package eventstoretest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
)

func idemRecord(key, hash string, response []byte, expires time.Time) *eventstore.IdempotencyRecord {
	return &eventstore.IdempotencyRecord{Key: key, RequestHash: hash, Response: response, ExpiresAt: expires}
}

func wantIdempotency(t *testing.T, s eventstore.Store, want *eventstore.IdempotencyRecord) {
	t.Helper()
	got := mustIdempotency(t, s, want.Key)
	if got == nil {
		t.Fatalf("no idempotency record under %s", want.Key)
	}
	if got.Key != want.Key || got.RequestHash != want.RequestHash || !bytes.Equal(got.Response, want.Response) ||
		!got.ExpiresAt.Equal(want.ExpiresAt.Truncate(time.Second)) {
		t.Fatalf("idempotency record %+v, want %+v (expiry to the second)", got, want)
	}
}

// testIdempotencyAtomic checks that the record is written with the events, and not at all when the append
// fails.
func testIdempotencyAtomic(t *testing.T, s eventstore.Store) {
	clock := ClockFor(t)
	const aid = "room-idem"
	first := idemRecord("key-1", "hash-1", []byte(`{"id":"room-idem","version":1}`),
		clock.Now().Add(24*time.Hour+500*time.Millisecond))
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: aid, Events: events(aid, 0, 1), Idempotency: first})
	wantIdempotency(t, s, first)

	// A conflicting append with a new key writes neither its events nor its record.
	err := s.Append(ctxFor(t), eventstore.AppendRequest{
		AggregateID: aid, Events: events(aid, 0, 1),
		Idempotency: idemRecord("key-2", "hash-2", []byte("x"), clock.Now().Add(time.Hour)),
	})
	if !errors.Is(err, eventstore.ErrVersionConflict) {
		t.Fatalf("conflicting append: got %v, want ErrVersionConflict", err)
	}
	if rec := mustIdempotency(t, s, "key-2"); rec != nil {
		t.Fatalf("a failed append wrote its idempotency record: %+v", rec)
	}
	// A record with an empty response and request hash reads back as such.
	empty := idemRecord("key-3", "", nil, clock.Now().Add(time.Hour))
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: 1, Events: events(aid, 1, 1), Idempotency: empty})
	wantIdempotency(t, s, empty)
	wantSeqs(t, mustLoad(t, s, aid, 0), 1, 2)
}

// testIdempotencyKeyExists checks that a live key refuses the append whole, even when the events would
// conflict as well, and that another aggregate cannot reuse it either.
func testIdempotencyKeyExists(t *testing.T, s eventstore.Store) {
	clock := ClockFor(t)
	rec := idemRecord("key-exists", "hash", []byte("response"), clock.Now().Add(time.Hour))
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: "room-1", Events: events("room-1", 0, 1), Idempotency: rec})

	tests := []struct {
		name string
		req  eventstore.AppendRequest
	}{
		{"same aggregate, next seq", eventstore.AppendRequest{AggregateID: "room-1", ExpectedSeq: 1, Events: events("room-1", 1, 2)}},
		{"same aggregate, same seq", eventstore.AppendRequest{AggregateID: "room-1", Events: events("room-1", 0, 1)}},
		{"another aggregate", eventstore.AppendRequest{AggregateID: "room-2", Events: events("room-2", 0, 1),
			Snapshot: snapshotAt("room-2", 1, []byte("state"))}},
	}
	for _, tt := range tests {
		tt.req.Idempotency = idemRecord(rec.Key, "other-hash", []byte("other"), clock.Now().Add(2*time.Hour))
		err := s.Append(ctxFor(t), tt.req)
		if !errors.Is(err, eventstore.ErrIdempotencyKeyExists) {
			t.Errorf("%s: got %v, want ErrIdempotencyKeyExists", tt.name, err)
		}
	}
	wantSeqs(t, mustLoad(t, s, "room-1", 0), 1, 1)
	if recs := mustLoad(t, s, "room-2", 0); len(recs) != 0 {
		t.Errorf("a refused append wrote %d events", len(recs))
	}
	if snap := mustSnapshot(t, s, "room-2"); snap != nil {
		t.Errorf("a refused append wrote a snapshot")
	}
	wantIdempotency(t, s, rec)
}

// testIdempotencyExpiry moves the clock: a record lives through its expiry second, then reads as none and may
// be replaced.
func testIdempotencyExpiry(t *testing.T, s eventstore.Store) {
	clock := ClockFor(t)
	const aid = "room-expiry"
	old := idemRecord("key-expiry", "hash-old", []byte("old"), clock.Now().Add(time.Hour))
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: aid, Events: events(aid, 0, 1), Idempotency: old})

	replace := func(seq int64) error {
		return s.Append(ctxFor(t), eventstore.AppendRequest{
			AggregateID: aid, ExpectedSeq: seq, Events: events(aid, seq, 1),
			Idempotency: idemRecord(old.Key, "hash-new", []byte("new"), clock.Now().Add(time.Hour)),
		})
	}
	clock.Advance(time.Hour)
	wantIdempotency(t, s, old)
	if err := replace(1); !errors.Is(err, eventstore.ErrIdempotencyKeyExists) {
		t.Fatalf("replace in the expiry second: got %v, want ErrIdempotencyKeyExists", err)
	}

	clock.Advance(time.Second)
	if rec := mustIdempotency(t, s, old.Key); rec != nil {
		t.Fatalf("expired record still read: %+v", rec)
	}
	if err := replace(1); err != nil {
		t.Fatalf("replace an expired record: %v", err)
	}
	wantIdempotency(t, s, idemRecord(old.Key, "hash-new", []byte("new"), clock.Now().Add(time.Hour)))
	wantSeqs(t, mustLoad(t, s, aid, 0), 1, 2)
}
