package search_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/search"
	"github.com/cqrses-aws/pipeline/schemas"
)

// The target keeps the state documents its batches read and wrote: a batch of the aggregates and authors of the
// batch before reads no state document from the index.
func TestStateCacheSparesTheReadsOfTheBatchBefore(t *testing.T) {
	t.Parallel()
	rec := newRecordingClient(openSearchClient(t))
	f := newFixture(t, rec)
	s := newStream(40)
	room := s.newID("room-")
	f.commit(t,
		s.ev("acct-c", &schemas.AccountRegisteredV1{Name: "Carol"}),
		s.ev(room, &schemas.RoomCreatedV1{Name: "r", CreatedBy: "acct-c"}),
		s.ev(room, &schemas.MessagePostedV1{MessageID: s.newID("msg-"), AuthorID: "acct-c", Text: "one"}),
	)
	rec.reset()
	f.commit(t,
		s.ev(room, &schemas.MessagePostedV1{MessageID: s.newID("msg-"), AuthorID: "acct-c", Text: "two"}),
		s.ev(room, &schemas.RoomRenamedV1{Name: "r2", RenamedBy: "acct-c"}),
	)
	for id := range rec.read {
		if strings.HasPrefix(id, "state") {
			t.Errorf("the second batch read %s from the index (%v)", id, rec.read)
		}
	}
	f.check(t)
}

// A state document another process wrote since this one cached it makes the batch fail with ErrStateConflict
// (its write expected the cached version); the runner's retry then reads the index and applies what is left.
func TestStaleCachedStateConflictsAndTheRetryReadsTheIndex(t *testing.T) {
	t.Parallel()
	eachClient(t, func(t *testing.T, cl search.Client) {
		f := newFixture(t, cl)
		other, err := f.p.Open(ctx(t), 1) // another process's target of the same version
		if err != nil {
			t.Fatal(err)
		}
		s := newStream(41)
		room := s.newID("room-")
		post := func(text string) projection.Event {
			return s.ev(room, &schemas.MessagePostedV1{MessageID: s.newID("msg-"), AuthorID: "a", Text: text})
		}
		f.commit(t, s.ev(room, &schemas.RoomCreatedV1{Name: "r", CreatedBy: "a"}), post("one")) // cached here
		theirs := post("two")
		commitBatch(t, other, []projection.Event{theirs}) // the other process took the partition over
		if err := f.want.Apply(theirs.Envelope); err != nil {
			t.Fatal(err)
		}

		rest := []projection.Event{theirs, post("three")}
		tx := f.begin(t, room) // seq 2 from the cache: "two" passes for new
		if err := f.finish(t, tx, rest...); !errors.Is(err, search.ErrStateConflict) {
			t.Fatalf("commit over a stale cached state = %v, want ErrStateConflict", err)
		}
		f.commit(t, rest[1:]...)    // what the runner's retry applies once States read seq 3 from the index
		commitBatch(t, f.tgt, rest) // and a replay of both changes nothing
		f.check(t)
		if st := f.states(t, room)[room]; st.Seq != 4 {
			t.Errorf("state = %+v, want seq 4", st)
		}
	})
}

// An account's cached name is not used once another process has moved the renames marker: a message posted after
// a rename that finished elsewhere carries the new name, although this process cached the old one.
func TestCachedNameIsNotUsedAfterARenameElsewhere(t *testing.T) {
	t.Parallel()
	eachClient(t, func(t *testing.T, cl search.Client) {
		f := newFixture(t, cl)
		other, err := f.p.Open(ctx(t), 1)
		if err != nil {
			t.Fatal(err)
		}
		s := newStream(42)
		room := s.newID("room-")
		f.commit(t,
			s.ev("acct-x", &schemas.AccountRegisteredV1{Name: "Old"}),
			s.ev(room, &schemas.RoomCreatedV1{Name: "r", CreatedBy: "acct-x"}),
			s.ev(room, &schemas.MessagePostedV1{MessageID: s.newID("msg-"), AuthorID: "acct-x", Text: "before"}),
		)
		rename := s.ev("acct-x", &schemas.AccountRenamedV1{Name: "New"})
		commitBatch(t, other, []projection.Event{rename})
		if err := f.want.Apply(rename.Envelope); err != nil {
			t.Fatal(err)
		}
		msg := s.newID("msg-")
		f.commit(t, s.ev(room, &schemas.MessagePostedV1{MessageID: msg, AuthorID: "acct-x", Text: "after"}))
		if got := f.check(t).Messages[msg]; got.SenderName != "New" {
			t.Errorf("sender name = %q, want New", got.SenderName)
		}
	})
}
