package eventstoretest

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
)

func mustEntity(t *testing.T, s eventstore.Store, key string) map[string]string {
	t.Helper()
	attrs, err := s.Entity(ctxFor(t), key)
	if err != nil {
		t.Fatalf("entity %s: %v", key, err)
	}
	return attrs
}

func wantEntity(t *testing.T, s eventstore.Store, key string, want map[string]string) {
	t.Helper()
	got := mustEntity(t, s, key)
	if want == nil && got != nil || !maps.Equal(got, want) {
		t.Fatalf("entity %s = %v, want %v", key, got, want)
	}
}

func created(key string, set map[string]string) eventstore.EntityWrite {
	return eventstore.EntityWrite{Key: key, Set: set, Create: true}
}

// testEntities writes entities with appends: created ones read back, a later write merges its attributes into
// them, a write without Create makes a missing entity, and absent keys read as none.
func testEntities(t *testing.T, s eventstore.Store) {
	const aid = "room-ent"
	msg1, msg2, msg3 := aid+"/msg-1", aid+"/msg-2", aid+"/msg-3"
	wantEntity(t, s, msg1, nil)
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: aid, Events: events(aid, 0, 2), Entities: []eventstore.EntityWrite{
		created(msg1, map[string]string{"author": "acc-1"}),
		created(msg2, map[string]string{"author": "acc-2", "note": "", "name_9_": "雑談\n\t\"x\""}),
	}})
	wantEntity(t, s, msg1, map[string]string{"author": "acc-1"})
	wantEntity(t, s, msg2, map[string]string{"author": "acc-2", "note": "", "name_9_": "雑談\n\t\"x\""})

	// Set merges: named attributes change, the others stay.
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: 2, Events: events(aid, 2, 1),
		Entities: []eventstore.EntityWrite{
			{Key: msg1, Set: map[string]string{"deleted": "true"}},
			{Key: msg2, Set: map[string]string{"author": "acc-9"}},
			{Key: msg3, Set: map[string]string{"author": "acc-3"}},
		}})
	wantEntity(t, s, msg1, map[string]string{"author": "acc-1", "deleted": "true"})
	wantEntity(t, s, msg2, map[string]string{"author": "acc-9", "note": "", "name_9_": "雑談\n\t\"x\""})
	wantEntity(t, s, msg3, map[string]string{"author": "acc-3"})

	for _, key := range []string{aid + "/msg-4", aid, "room-ent/msg-", ""} {
		wantEntity(t, s, key, nil)
	}
	// The attributes read are the caller's own.
	mustEntity(t, s, msg1)["author"] = "changed"
	wantEntity(t, s, msg1, map[string]string{"author": "acc-1", "deleted": "true"})
	wantSeqs(t, mustLoad(t, s, aid, 0), 1, 3)
}

// testEntityExists checks that creating an entity whose key exists refuses the append whole, even one of
// another aggregate or one that would conflict too, and that a live idempotency key still wins.
func testEntityExists(t *testing.T, s eventstore.Store) {
	clock := ClockFor(t)
	const aid = "room-ent-exists"
	msg := aid + "/msg-1"
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: aid, Events: events(aid, 0, 1),
		Entities: []eventstore.EntityWrite{created(msg, map[string]string{"author": "acc-1"})}})

	refused := func(req eventstore.AppendRequest) eventstore.AppendRequest {
		req.Snapshot = snapshotAt(req.AggregateID, req.Events[len(req.Events)-1].Seq, []byte("state"))
		req.Idempotency = idemRecord("key-ent-new", "hash", []byte("response"), clock.Now().Add(time.Hour))
		req.Entities = []eventstore.EntityWrite{
			{Key: aid + "/msg-other", Set: map[string]string{"author": "acc-2"}, Create: true},
			{Key: msg, Set: map[string]string{"author": "acc-2", "deleted": "true"}, Create: true},
		}
		return req
	}
	tests := []struct {
		name string
		req  eventstore.AppendRequest
	}{
		{"next seq", refused(eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: 1, Events: events(aid, 1, 2)})},
		{"stale seq, which conflicts too", refused(eventstore.AppendRequest{AggregateID: aid, Events: events(aid, 0, 1)})},
		{"another aggregate", refused(eventstore.AppendRequest{AggregateID: aid + "-2", Events: events(aid+"-2", 0, 1)})},
	}
	for _, tt := range tests {
		err := s.Append(ctxFor(t), tt.req)
		if !errors.Is(err, eventstore.ErrEntityExists) {
			t.Errorf("%s: got %v, want ErrEntityExists", tt.name, err)
			continue
		}
		if !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: error %q does not name the entity %s", tt.name, err, msg)
		}
	}
	wantSeqs(t, mustLoad(t, s, aid, 0), 1, 1)
	if recs := mustLoad(t, s, aid+"-2", 0); len(recs) != 0 {
		t.Errorf("a refused append wrote %d events", len(recs))
	}
	for _, a := range []string{aid, aid + "-2"} {
		if snap := mustSnapshot(t, s, a); snap != nil {
			t.Errorf("a refused append wrote a snapshot of %s", a)
		}
	}
	if rec := mustIdempotency(t, s, "key-ent-new"); rec != nil {
		t.Errorf("a refused append wrote its idempotency record")
	}
	wantEntity(t, s, aid+"/msg-other", nil)
	wantEntity(t, s, msg, map[string]string{"author": "acc-1"})

	// A live idempotency key wins over the entity that exists.
	live := idemRecord("key-ent-live", "hash", []byte("response"), clock.Now().Add(time.Hour))
	mustAppend(t, s, eventstore.AppendRequest{AggregateID: aid, ExpectedSeq: 1, Events: events(aid, 1, 1), Idempotency: live})
	err := s.Append(ctxFor(t), eventstore.AppendRequest{
		AggregateID: aid, ExpectedSeq: 2, Events: events(aid, 2, 1),
		Entities:    []eventstore.EntityWrite{created(msg, map[string]string{"author": "acc-3"})},
		Idempotency: idemRecord(live.Key, "other-hash", []byte("other"), clock.Now().Add(time.Hour)),
	})
	if !errors.Is(err, eventstore.ErrIdempotencyKeyExists) {
		t.Fatalf("live key and an existing entity: got %v, want ErrIdempotencyKeyExists", err)
	}
	wantSeqs(t, mustLoad(t, s, aid, 0), 1, 2)
	wantEntity(t, s, msg, map[string]string{"author": "acc-1"})
}

// testEntityInvalid checks that malformed entity writes are ErrInvalidAppend and write nothing, and that the
// bounds themselves pass.
func testEntityInvalid(t *testing.T, s eventstore.Store) {
	const aid = "room-ent-invalid"
	write := func(key string, set map[string]string) eventstore.AppendRequest {
		return eventstore.AppendRequest{AggregateID: aid, Events: events(aid, 0, 1),
			Entities: []eventstore.EntityWrite{created(key, set)}}
	}
	ok := map[string]string{"author": "acc-1"}
	tests := []struct {
		name string
		req  eventstore.AppendRequest
	}{
		{"empty key", write("", ok)},
		{"key over 1024 bytes", write(strings.Repeat("k", 1025), ok)},
		{"key not UTF-8", write("msg-\xff", ok)},
		{"no attributes", write("msg-1", nil)},
		{"attribute named key", write("msg-1", map[string]string{"key": "x"})},
		{"attribute name upper case", write("msg-1", map[string]string{"Author": "x"})},
		{"attribute name with a dash", write("msg-1", map[string]string{"au-thor": "x"})},
		{"attribute name starting with a digit", write("msg-1", map[string]string{"1author": "x"})},
		{"attribute name over 64 bytes", write("msg-1", map[string]string{"a" + strings.Repeat("b", 64): "x"})},
		{"empty attribute name", write("msg-1", map[string]string{"": "x"})},
		{"value not UTF-8", write("msg-1", map[string]string{"author": "acc-\xff"})},
		{"same key twice", eventstore.AppendRequest{AggregateID: aid, Events: events(aid, 0, 1),
			Entities: []eventstore.EntityWrite{created("msg-1", ok), {Key: "msg-1", Set: map[string]string{"deleted": "true"}}}}},
	}
	for _, tt := range tests {
		if err := s.Append(ctxFor(t), tt.req); !errors.Is(err, eventstore.ErrInvalidAppend) {
			t.Errorf("%s: got %v, want ErrInvalidAppend", tt.name, err)
		}
	}
	if recs := mustLoad(t, s, aid, 0); len(recs) != 0 {
		t.Errorf("invalid appends wrote %d events", len(recs))
	}
	wantEntity(t, s, "msg-1", nil)

	longKey, longName := strings.Repeat("k", 1024), "a"+strings.Repeat("b", 63)
	mustAppend(t, s, write(longKey, map[string]string{longName: "x", "z": ""}))
	wantEntity(t, s, longKey, map[string]string{longName: "x", "z": ""})
}
