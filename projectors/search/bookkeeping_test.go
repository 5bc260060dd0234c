package search_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/readmodel"
	"github.com/cqrses-aws/pipeline/projectors/search"
	"github.com/cqrses-aws/pipeline/schemas"
)

// recordingClient records the largest request body and the state documents each request names.
type recordingClient struct {
	search.Client
	mu       sync.Mutex
	largest  int
	requests int
	read     map[string]int // state document id → mget or search requests that named it
	written  map[string]int // state document id → bulk actions that wrote it
}

func newRecordingClient(cl search.Client) *recordingClient {
	return &recordingClient{Client: cl, read: map[string]int{}, written: map[string]int{}}
}

// stateIDs finds the state document ids in a request body: JSON strings starting "state:" or "state#".
var stateIDs = regexp.MustCompile(`"(state[:#](?:[^"\\]|\\.)*)"`)

func (c *recordingClient) record(body []byte, into map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.largest = max(c.largest, len(body))
	c.requests++
	for _, m := range stateIDs.FindAllSubmatch(body, -1) {
		into[string(m[1])]++
	}
}

// reset forgets what was recorded.
func (c *recordingClient) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.largest, c.requests, c.read, c.written = 0, 0, map[string]int{}, map[string]int{}
}

func (c *recordingClient) Bulk(ctx context.Context, index string, body []byte) ([]byte, error) {
	c.record(body, c.written)
	return c.Client.Bulk(ctx, index, body)
}

func (c *recordingClient) Mget(ctx context.Context, index string, body []byte) ([]byte, error) {
	c.record(body, c.read)
	return c.Client.Mget(ctx, index, body)
}

func (c *recordingClient) Search(ctx context.Context, index string, body []byte) ([]byte, error) {
	c.record(body, c.read)
	return c.Client.Search(ctx, index, body)
}

// touched returns the state documents read or written, sorted.
func (c *recordingClient) touched() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []string
	for id := range c.read {
		ids = append(ids, id)
	}
	for id := range c.written {
		if c.read[id] == 0 {
			ids = append(ids, id)
		}
	}
	return sortedStrings(ids)
}

func sortedStrings(ss []string) []string { return slices.Sorted(slices.Values(ss)) }

// manyRooms returns events creating n rooms with one message each by one of accounts registered first.
func manyRooms(s *stream, n, accounts int) []projection.Event {
	var events []projection.Event
	for i := range accounts {
		events = append(events, s.ev(fmt.Sprintf("acct-%d", i), &schemas.AccountRegisteredV1{Name: fmt.Sprintf("user %d", i)}))
	}
	for i := range n {
		room := s.newID("room-")
		author := fmt.Sprintf("acct-%d", i%accounts)
		events = append(events,
			s.ev(room, &schemas.RoomCreatedV1{Name: fmt.Sprintf("room %d", i), CreatedBy: author}),
			s.ev(room, &schemas.MessagePostedV1{MessageID: s.newID("msg-"), AuthorID: author, Text: "hello there"}))
	}
	return events
}

// TestBookkeepingFollowsTheBatch commits a batch to an index that holds hundreds of aggregates: the batch's
// requests read and write the state documents of its own aggregates (and its author's, unless the target's
// cache holds it from the batch before) only.
func TestBookkeepingFollowsTheBatch(t *testing.T) {
	t.Parallel()
	rec := newRecordingClient(openSearchClient(t))
	f := newFixture(t, rec)
	s := newStream(30)
	f.commit(t, manyRooms(s, 300, 20)...)

	rec.reset()
	r1, r2 := s.newID("room-"), s.newID("room-")
	f.commit(t,
		s.ev(r1, &schemas.RoomCreatedV1{Name: "one", CreatedBy: "acct-1"}),
		s.ev(r1, &schemas.MessagePostedV1{MessageID: s.newID("msg-"), AuthorID: "acct-1", Text: "a"}),
		s.ev(r2, &schemas.RoomCreatedV1{Name: "two", CreatedBy: "acct-2"}),
	)
	want := sortedStrings([]string{search.StateID(r1), search.StateID(r2)})
	if got := slices.DeleteFunc(rec.touched(), func(id string) bool { return id == search.StateID("acct-1") }); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the batch touched state documents %v, want %v and perhaps its author's", got, want)
	}
	if rec.largest > 4<<10 {
		t.Errorf("the batch sent a request of %d bytes, want its bookkeeping to stay small", rec.largest)
	}
	f.check(t)

	rec.reset()
	if _, err := search.AppliedSeqs(ctx(t), rec, f.p.Index(1), []string{r1}); err != nil {
		t.Fatal(err)
	}
	if _, err := search.VisibleSeqs(ctx(t), rec, f.p.Index(1), []string{r1}); err != nil {
		t.Fatal(err)
	}
	if got := rec.touched(); len(got) != 1 || got[0] != search.StateID(r1) || rec.read[got[0]] != 2 {
		t.Errorf("AppliedSeqs and VisibleSeqs of %s read %v", r1, rec.read)
	}
}

// TestRequestsStayUnderTheByteCap commits batches of many aggregates with a 2 KiB cap: every request stays under
// it (bulk, mget and the rewrite's searches split), and the index still matches the reference.
func TestRequestsStayUnderTheByteCap(t *testing.T) {
	t.Parallel()
	const maxBytes = 2 << 10
	rec := newRecordingClient(openSearchClient(t))
	p := newProjection(t, rec, search.Config{MaxRequestBytes: maxBytes})
	tgt, err := p.Open(ctx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{cl: rec, p: p, tgt: tgt, want: readmodel.New()}
	s := newStream(31)
	events := manyRooms(s, 200, 200)
	f.commit(t, events...)
	// Every account renamed at once: the rewrite of their messages takes several searches.
	var renames []projection.Event
	for i := range 200 {
		renames = append(renames, s.ev(fmt.Sprintf("acct-%d", i), &schemas.AccountRenamedV1{Name: fmt.Sprintf("user %d'", i)}))
	}
	f.commit(t, renames...)
	if rec.largest > maxBytes {
		t.Errorf("largest request %d bytes, over the cap of %d", rec.largest, maxBytes)
	}
	// 400 state documents of about 200 bytes and 200 messages of about 400 take dozens of requests.
	if rec.requests < 30 {
		t.Errorf("%d requests, want the batch split into many", rec.requests)
	}
	f.check(t)
	ids := make([]string, 0, len(events))
	for _, e := range events {
		ids = append(ids, e.AggregateID)
	}
	applied, err := search.AppliedSeqs(ctx(t), rec, p.Index(1), ids)
	if err != nil || len(applied) != 400 {
		t.Errorf("AppliedSeqs found %d aggregates (%v), want 400", len(applied), err)
	}
}

// TestConcurrentBatchesOfOneAggregateRace commits two batches of the same aggregate at the same time, once
// while its state document does not exist and once while it does: exactly one of them fails with
// ErrStateConflict.
func TestConcurrentBatchesOfOneAggregateRace(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSearchClient(t))
	s := newStream(32)
	room := s.newID("room-")
	created := s.ev(room, &schemas.RoomCreatedV1{Name: "r", CreatedBy: "a"})
	renamed := s.ev(room, &schemas.RoomRenamedV1{Name: "r'", RenamedBy: "a"})
	for _, e := range []projection.Event{created, renamed} {
		tx1, tx2 := f.begin(t, room), f.begin(t, room)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, tx := range []projection.Tx{tx1, tx2} {
			wg.Go(func() { errs[i] = f.finishErr(t, tx, e) })
		}
		wg.Wait()
		conflicts := 0
		for _, err := range errs {
			switch {
			case errors.Is(err, search.ErrStateConflict):
				conflicts++
			case err != nil:
				t.Fatalf("commit of %s: %v", e.Type, err)
			}
		}
		if conflicts != 1 {
			t.Errorf("%s: %d of the two batches met ErrStateConflict (%v), want exactly one", e.Type, conflicts, errs)
		}
		if err := f.want.Apply(e.Envelope); err != nil {
			t.Fatal(err)
		}
	}
	f.check(t)
}

// TestLongAggregateIDs stores the state of an aggregate whose id is too long for a document id.
func TestLongAggregateIDs(t *testing.T) {
	t.Parallel()
	cl := openSearchClient(t)
	f := newFixture(t, cl)
	s := newStream(33)
	acct, room := "acct-"+strings.Repeat("x", 600), s.newID("room-")
	if id := search.StateID(acct); len(id) > 512 || id == search.StateID(acct+"y") {
		t.Fatalf("state document id %q: too long or not distinct", id)
	}
	f.commit(t,
		s.ev(acct, &schemas.AccountRegisteredV1{Name: "Long"}),
		s.ev(room, &schemas.RoomCreatedV1{Name: "r", CreatedBy: acct}),
		s.ev(room, &schemas.MessagePostedV1{MessageID: s.newID("msg-"), AuthorID: acct, Text: "hi"}),
	)
	f.check(t) // the account's name, read back from its document
	if st := f.states(t, acct)[acct]; st.Seq != 1 {
		t.Errorf("state of the long id = %+v, want seq 1", st)
	}
	applied, err := search.AppliedSeqs(ctx(t), cl, f.p.Index(1), []string{acct})
	if err != nil || applied[acct] != 1 {
		t.Errorf("AppliedSeqs = %v, %v; want the long id at 1", applied, err)
	}
}

// TestMessagesCarryTheirPostSeq checks a message document's seq: the room seq of its MessagePosted, whatever
// edits and renames of its room and sender rewrite it afterwards.
func TestMessagesCarryTheirPostSeq(t *testing.T) {
	t.Parallel()
	cl := openSearchClient(t)
	f := newFixture(t, cl)
	s := newStream(34)
	room, msg := s.newID("room-"), s.newID("msg-")
	f.commit(t,
		s.ev("acct-p", &schemas.AccountRegisteredV1{Name: "P"}),
		s.ev(room, &schemas.RoomCreatedV1{Name: "r", CreatedBy: "acct-p"}),
		s.ev(room, &schemas.MemberAddedV2{AccountID: "acct-p", Role: schemas.RoleMember, AddedBy: "acct-p"}),
		s.ev(room, &schemas.MessagePostedV1{MessageID: msg, AuthorID: "acct-p", Text: "first"}),
	)
	seqOf := func(stage string) {
		t.Helper()
		raw, err := cl.Mget(ctx(t), f.p.Index(1), []byte(`{"ids":["`+msg+`"]}`))
		if err != nil {
			t.Fatal(err)
		}
		v, err := fastjson.ParseBytes(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.GetInt64("docs", "0", "_source", "seq"); got != 3 {
			t.Errorf("after %s the document's seq is %d, want 3 (%s)", stage, got, bytes.TrimSpace(raw))
		}
	}
	seqOf("the post")
	f.commit(t, s.ev(room, &schemas.MessageEditedV1{MessageID: msg, Text: "second", EditedBy: "acct-p"}))
	seqOf("an edit")
	f.commit(t, s.ev(room, &schemas.RoomRenamedV1{Name: "r'", RenamedBy: "acct-p"}))
	seqOf("a room rename")
	f.commit(t, s.ev("acct-p", &schemas.AccountRenamedV1{Name: "P'"}))
	seqOf("a sender rename")
	f.check(t)
}

// TestEventsThatCanNeverApplyArePermanent applies an event of a type the fold does not handle and events whose
// seqs a message version cannot hold: Apply answers each with a *projection.PermanentError naming the event.
func TestEventsThatCanNeverApplyArePermanent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSearchClient(t))
	s := newStream(35)
	unknown := s.ev(s.newID("room-"), &schemas.RoomCreatedV1{Name: "r", CreatedBy: "a"})
	unknown.Payload = &struct{ Surprise string }{"?"}
	roomBeyond := s.ev(s.newID("room-"), &schemas.RoomCreatedV1{Name: "r", CreatedBy: "a"})
	roomBeyond.Seq = 1 << 37
	acctBeyond := s.ev("acct-busy", &schemas.AccountRenamedV1{Name: "again"})
	acctBeyond.Seq = 1<<26 - 1
	acctLast := s.ev("acct-fine", &schemas.AccountRenamedV1{Name: "fine"})
	acctLast.Seq = 1<<26 - 2
	for _, e := range []projection.Event{unknown, roomBeyond, acctBeyond} {
		tx := f.begin(t, e.AggregateID)
		err := tx.Apply(ctx(t), []projection.Event{e})
		var perm *projection.PermanentError
		if !errors.As(err, &perm) || perm.AggregateID != e.AggregateID || perm.Seq != e.Seq {
			t.Errorf("Apply(%s seq %d) = %v, want a PermanentError naming it", e.Type, e.Seq, err)
		}
		_ = tx.Rollback(ctx(t))
	}
	commitBatch(t, f.tgt, []projection.Event{acctLast}) // the largest account seq a version holds
	if st := f.states(t, "acct-fine")["acct-fine"]; st.Seq != acctLast.Seq {
		t.Errorf("state = %+v, want seq %d", st, acctLast.Seq)
	}
}
