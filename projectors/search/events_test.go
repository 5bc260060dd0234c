package search_test

import (
	"testing"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/search"
	"github.com/cqrses-aws/pipeline/schemas"
)

// TestEveryEventType applies every event type over several batches and compares the index with the reference
// model, through both adapters.
func TestEveryEventType(t *testing.T) {
	t.Parallel()
	eachClient(t, func(t *testing.T, cl search.Client) {
		f := newFixture(t, cl)
		s := newStream(1)
		ann, bob := "acct-ann", "acct-bob"
		room, doomed := s.newID("room-"), s.newID("room-")
		m1, m2, m3, m4 := s.newID("msg-"), s.newID("msg-"), s.newID("msg-"), s.newID("msg-")

		f.commit(t,
			s.ev(ann, &schemas.AccountRegisteredV1{Name: "Ann"}),
			s.ev(bob, &schemas.AccountRegisteredV1{Name: "Bob"}),
			s.ev(room, &schemas.RoomCreatedV1{Name: "general", CreatedBy: ann}),
			s.ev(room, &schemas.MemberAddedV2{AccountID: bob, Role: schemas.RoleMember, AddedBy: ann}),
			s.ev(room, &schemas.MessagePostedV1{MessageID: m1, AuthorID: ann, Text: "hello \"world\"\n\tdone"}),
			s.ev(room, &schemas.MessagePostedV1{MessageID: m2, AuthorID: bob, Text: "to be deleted"}),
		)
		f.check(t)
		f.commit(t,
			s.ev(room, &schemas.MessageEditedV1{MessageID: m1, Text: "hello again", EditedBy: ann}),
			s.ev(room, &schemas.MessageDeletedV1{MessageID: m2, DeletedBy: bob}),
			s.ev(room, &schemas.RoomRenamedV1{Name: "town square", RenamedBy: ann}),
			s.ev(ann, &schemas.AccountRenamedV1{Name: "Ann Lee"}),
			s.ev(room, &schemas.MemberRemovedV1{AccountID: bob, RemovedBy: ann}),
			s.ev(doomed, &schemas.RoomCreatedV1{Name: "doomed", CreatedBy: bob}),
			s.ev(doomed, &schemas.MessagePostedV1{MessageID: m3, AuthorID: bob, Text: "soon gone"}),
		)
		f.check(t)
		f.commit(t,
			s.ev(doomed, &schemas.MessagePostedV1{MessageID: m4, AuthorID: bob, Text: "gone with it"}),
			s.ev(doomed, &schemas.RoomDeletedV1{DeletedBy: bob}),
		)
		got := f.check(t)

		if len(got.Messages) != 1 {
			t.Fatalf("messages = %v, want only %s", got.Messages, m1)
		}
		m := got.Messages[m1]
		if m.Text != "hello again" || m.RoomName != "town square" || m.SenderName != "Ann Lee" || m.EditedAt.IsZero() {
			t.Errorf("message %s = %+v, want the edit, the new room name and the new sender name", m1, m)
		}
		if _, ok := got.Rooms[doomed]; ok {
			t.Errorf("deleted room %s is still listed", doomed)
		}
		states := f.states(t, room, ann, doomed, "acct-nobody")
		want := map[string]projection.State{room: {Seq: 8}, ann: {Seq: 2}, doomed: {Seq: 4}, "acct-nobody": {}}
		for id, w := range want {
			if states[id] != w {
				t.Errorf("state of %s = %+v, want %+v", id, states[id], w)
			}
		}
	})
}

// TestFoldsWithinABatch posts, edits and deletes messages in one batch.
func TestFoldsWithinABatch(t *testing.T) {
	t.Parallel()
	eachClient(t, func(t *testing.T, cl search.Client) {
		f := newFixture(t, cl)
		s := newStream(2)
		room := s.newID("room-")
		kept, gone := s.newID("msg-"), s.newID("msg-")
		f.commit(t,
			s.ev(room, &schemas.RoomCreatedV1{Name: "r", CreatedBy: "a"}),
			s.ev(room, &schemas.MessagePostedV1{MessageID: kept, AuthorID: "a", Text: "one"}),
			s.ev(room, &schemas.MessageEditedV1{MessageID: kept, Text: "two", EditedBy: "a"}),
			s.ev(room, &schemas.MessagePostedV1{MessageID: gone, AuthorID: "a", Text: "x"}),
			s.ev(room, &schemas.MessageEditedV1{MessageID: gone, Text: "y", EditedBy: "a"}),
			s.ev(room, &schemas.MessageDeletedV1{MessageID: gone, DeletedBy: "a"}),
			s.ev(room, &schemas.MessageEditedV1{MessageID: kept, Text: "three", EditedBy: "a"}),
		)
		got := f.check(t)
		if m := got.Messages[kept]; m.Text != "three" || m.SenderName != "" {
			t.Errorf("message = %+v, want text three and no sender name yet", m)
		}
		if _, ok := got.Messages[gone]; ok {
			t.Errorf("message %s posted and deleted in one batch is stored", gone)
		}
	})
}

// TestDuplicatesAndReplaysChangeNothing re-applies batches without the runner's filter: the whole batch again,
// with and without its state write, and an older event after a newer one.
func TestDuplicatesAndReplaysChangeNothing(t *testing.T) {
	t.Parallel()
	eachClient(t, func(t *testing.T, cl search.Client) {
		f := newFixture(t, cl)
		s := newStream(3)
		room := s.newID("room-")
		m1, m2 := s.newID("msg-"), s.newID("msg-")
		first := []projection.Event{
			s.ev("acct-a", &schemas.AccountRegisteredV1{Name: "A"}),
			s.ev(room, &schemas.RoomCreatedV1{Name: "r", CreatedBy: "acct-a"}),
			s.ev(room, &schemas.MessagePostedV1{MessageID: m1, AuthorID: "acct-a", Text: "first"}),
			s.ev(room, &schemas.MessagePostedV1{MessageID: m2, AuthorID: "acct-a", Text: "doomed"}),
		}
		posted := first[2]
		second := []projection.Event{
			s.ev(room, &schemas.MessageEditedV1{MessageID: m1, Text: "edited", EditedBy: "acct-a"}),
			s.ev(room, &schemas.MessageDeletedV1{MessageID: m2, DeletedBy: "acct-a"}),
			s.ev(room, &schemas.RoomRenamedV1{Name: "renamed", RenamedBy: "acct-a"}),
			s.ev("acct-a", &schemas.AccountRenamedV1{Name: "A2"}),
		}
		f.commit(t, first...)
		f.commit(t, second...)
		before := f.check(t)

		f.applyRaw(t, true, first...)
		f.check(t)
		f.applyRaw(t, false, second...)
		f.check(t)
		f.applyRaw(t, true, posted)   // older than the edit
		f.applyRaw(t, true, first[1]) // RoomCreated again, with the old name
		f.applyRaw(t, true, first[0]) // AccountRegistered again, with the old name
		after := f.check(t)
		if m := after.Messages[m1]; m.Text != "edited" || m.RoomName != "renamed" || m.SenderName != "A2" {
			t.Errorf("after replays message = %+v, want %+v", m, before.Messages[m1])
		}
		if st := f.states(t, room, "acct-a"); st[room].Seq != 6 || st["acct-a"].Seq != 2 {
			t.Errorf("states after replays = %+v, want room 6 and account 2", st)
		}
	})
}

// TestNamesEndCurrentWhateverTheOrder sends account events before, after and amid the messages that use them.
func TestNamesEndCurrentWhateverTheOrder(t *testing.T) {
	t.Parallel()
	eachClient(t, func(t *testing.T, cl search.Client) {
		f := newFixture(t, cl)
		s := newStream(4)
		room := s.newID("room-")
		early, late, same := "acct-early", "acct-late", "acct-same"
		m1, m2, m3, m4 := s.newID("msg-"), s.newID("msg-"), s.newID("msg-"), s.newID("msg-")

		// Messages of late arrive before late's registration; early is registered first.
		f.commit(t,
			s.ev(early, &schemas.AccountRegisteredV1{Name: "Early"}),
			s.ev(room, &schemas.RoomCreatedV1{Name: "r1", CreatedBy: early}),
			s.ev(room, &schemas.MessagePostedV1{MessageID: m1, AuthorID: early, Text: "a"}),
			s.ev(room, &schemas.MessagePostedV1{MessageID: m2, AuthorID: late, Text: "b"}),
		)
		f.check(t)
		f.commit(t,
			s.ev(late, &schemas.AccountRegisteredV1{Name: "Late"}),
			s.ev(early, &schemas.AccountRenamedV1{Name: "Early 2"}),
		)
		f.check(t)
		// In one batch: a post before the sender's rename and one after, and a post before a room rename.
		f.commit(t,
			s.ev(room, &schemas.MessagePostedV1{MessageID: m3, AuthorID: same, Text: "c"}),
			s.ev(same, &schemas.AccountRegisteredV1{Name: "Same"}),
			s.ev(same, &schemas.AccountRenamedV1{Name: "Same 2"}),
			s.ev(room, &schemas.MessagePostedV1{MessageID: m4, AuthorID: late, Text: "d"}),
			s.ev(late, &schemas.AccountRenamedV1{Name: "Late 2"}),
			s.ev(room, &schemas.RoomRenamedV1{Name: "r2", RenamedBy: early}),
		)
		got := f.check(t)
		want := map[string][2]string{m1: {"Early 2", "r2"}, m2: {"Late 2", "r2"}, m3: {"Same 2", "r2"}, m4: {"Late 2", "r2"}}
		for id, w := range want {
			if m := got.Messages[id]; m.SenderName != w[0] || m.RoomName != w[1] {
				t.Errorf("message %s: sender %q room %q, want %q %q", id, m.SenderName, m.RoomName, w[0], w[1])
			}
		}
	})
}

// TestConcurrentRenameOfASender commits a rename of the sender between another batch's Apply and Commit, the
// race between a room partition and an account partition: the message must end with the new name.
func TestConcurrentRenameOfASender(t *testing.T) {
	t.Parallel()
	eachClient(t, func(t *testing.T, cl search.Client) {
		f := newFixture(t, cl)
		s := newStream(5)
		room, msg := s.newID("room-"), s.newID("msg-")
		f.commit(t,
			s.ev("acct-x", &schemas.AccountRegisteredV1{Name: "Old"}),
			s.ev(room, &schemas.RoomCreatedV1{Name: "r", CreatedBy: "acct-x"}),
		)
		post := s.ev(room, &schemas.MessagePostedV1{MessageID: msg, AuthorID: "acct-x", Text: "hi"})
		rename := s.ev("acct-x", &schemas.AccountRenamedV1{Name: "New"})

		tx, err := f.tgt.Begin(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.States(ctx(t), []string{room}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Apply(ctx(t), []projection.Event{post}); err != nil { // reads the name "Old"
			t.Fatal(err)
		}
		f.commit(t, rename) // finds no message of acct-x yet
		if err := tx.Save(ctx(t), map[string]projection.State{room: {Seq: post.Seq}}, nil); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx(t)); err != nil {
			t.Fatal(err)
		}
		if err := f.want.Apply(post.Envelope); err != nil {
			t.Fatal(err)
		}
		if got := f.check(t).Messages[msg]; got.SenderName != "New" {
			t.Errorf("sender name = %q, want New", got.SenderName)
		}
	})
}

// TestParkedIsStored saves a parked state without a new seq.
func TestParkedIsStored(t *testing.T) {
	t.Parallel()
	eachClient(t, func(t *testing.T, cl search.Client) {
		f := newFixture(t, cl)
		s := newStream(6)
		room := s.newID("room-")
		f.commit(t, s.ev(room, &schemas.RoomCreatedV1{Name: "r", CreatedBy: "a"}))
		for _, parked := range []bool{true, false, true} {
			tx, err := f.tgt.Begin(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Save(ctx(t), map[string]projection.State{room: {Seq: 1, Parked: parked}}, nil); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(ctx(t)); err != nil {
				t.Fatal(err)
			}
			if st := f.states(t, room)[room]; st != (projection.State{Seq: 1, Parked: parked}) {
				t.Fatalf("state = %+v, want seq 1 parked %v", st, parked)
			}
		}
		f.check(t) // the room's name survived the state-only writes
	})
}

// A batch whose senders nobody renamed meanwhile reads only the renames marker to verify their names, not
// their state documents again (TestConcurrentRenameOfASender covers the other way).
func TestVerifyReadsTheNamesOnlyAfterARename(t *testing.T) {
	t.Parallel()
	counting := &countingClient{Client: openSearchClient(t)}
	f := newFixture(t, counting)
	s := newStream(6)
	room := s.newID("room-")
	f.commit(t,
		s.ev("acct-y", &schemas.AccountRegisteredV1{Name: "Yu"}),
		s.ev("acct-y", &schemas.AccountRenamedV1{Name: "Yuki"}), // the marker exists and has moved once
		s.ev(room, &schemas.RoomCreatedV1{Name: "r", CreatedBy: "acct-y"}),
	)
	post := s.ev(room, &schemas.MessagePostedV1{MessageID: s.newID("msg-"), AuthorID: "acct-y", Text: "hi"})
	tx, err := f.tgt.Begin(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.States(ctx(t), []string{room}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Apply(ctx(t), []projection.Event{post}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Save(ctx(t), map[string]projection.State{room: {Seq: post.Seq}}, nil); err != nil {
		t.Fatal(err)
	}
	before := counting.mget.Load()
	if err := tx.Commit(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if reads := counting.mget.Load() - before; reads != 1 {
		t.Errorf("commit made %d mget requests, want 1 (the renames marker)", reads)
	}
	if err := f.want.Apply(post.Envelope); err != nil {
		t.Fatal(err)
	}
	f.check(t)
}

// A batch that renames an account itself moves the renames marker itself; when nobody else moved it in between,
// its commit reads the marker and not its other senders' names again. When another process renamed one of
// those senders meanwhile, it does read them, and the message gets the new name.
func TestOwnRenameDoesNotMakeTheBatchReadItsSendersAgain(t *testing.T) {
	t.Parallel()
	for _, concurrent := range []bool{false, true} {
		counting := &countingClient{Client: openSearchClient(t)}
		f := newFixture(t, counting)
		s := newStream(7)
		room, msg := s.newID("room-"), s.newID("msg-")
		f.commit(t,
			s.ev("acct-a", &schemas.AccountRegisteredV1{Name: "Aki"}),
			s.ev("acct-y", &schemas.AccountRegisteredV1{Name: "Yu"}),
			s.ev("acct-y", &schemas.AccountRenamedV1{Name: "Yuki"}), // the marker exists
			s.ev(room, &schemas.RoomCreatedV1{Name: "r", CreatedBy: "acct-y"}),
		)
		own := s.ev("acct-a", &schemas.AccountRenamedV1{Name: "Akira"})
		post := s.ev(room, &schemas.MessagePostedV1{MessageID: msg, AuthorID: "acct-y", Text: "hi"})
		tx, err := f.tgt.Begin(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.States(ctx(t), []string{"acct-a", room}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Apply(ctx(t), []projection.Event{own, post}); err != nil {
			t.Fatal(err)
		}
		want := "Yuki"
		if concurrent { // another process renames the sender after this batch read the name
			want = "Yoshi"
			f.commit(t, s.ev("acct-y", &schemas.AccountRenamedV1{Name: want}))
		}
		if err := tx.Save(ctx(t), map[string]projection.State{"acct-a": {Seq: own.Seq}, room: {Seq: post.Seq}}, nil); err != nil {
			t.Fatal(err)
		}
		before := counting.mget.Load()
		if err := tx.Commit(ctx(t)); err != nil {
			t.Fatal(err)
		}
		reads, wantReads := counting.mget.Load()-before, int32(1)
		if concurrent {
			wantReads = 2 // the marker, then the senders' names
		}
		if reads != wantReads {
			t.Errorf("concurrent rename %v: commit made %d mget requests, want %d", concurrent, reads, wantReads)
		}
		for _, e := range []projection.Event{own, post} {
			if err := f.want.Apply(e.Envelope); err != nil {
				t.Fatal(err)
			}
		}
		if got := f.check(t).Messages[msg]; got.SenderName != want {
			t.Errorf("concurrent rename %v: sender name %q, want %q", concurrent, got.SenderName, want)
		}
	}
}
