package search_test

import (
	"testing"

	"github.com/cqrses-aws/pipeline/projectors/search"
	"github.com/cqrses-aws/pipeline/schemas"
)

// TestVisibleAndAppliedSeqs reads the applied seqs the way the query API's read-your-writes does: real-time
// (AppliedSeqs) at once; as searches see them (VisibleSeqs) nothing before the index is refreshed (it is built
// with refresh off), then each aggregate's last applied seq, and with them the batch's messages are searchable.
func TestVisibleAndAppliedSeqs(t *testing.T) {
	t.Parallel()
	eachClient(t, func(t *testing.T, cl search.Client) {
		f := newFixture(t, cl)
		s := newStream(20)
		room, other, acct := s.newID("room-"), s.newID("room-"), s.newID("acct-")
		f.commit(t,
			s.ev(acct, &schemas.AccountRegisteredV1{Name: "Ann"}),
			s.ev(room, &schemas.RoomCreatedV1{Name: "r", CreatedBy: acct}),
			s.ev(room, &schemas.MessagePostedV1{MessageID: s.newID("msg-"), AuthorID: acct, Text: "findable words"}),
		)
		index := f.p.Index(1)
		applied, err := search.AppliedSeqs(ctx(t), cl, index, []string{room, acct, other})
		if err != nil || len(applied) != 2 || applied[room] != 2 || applied[acct] != 1 {
			t.Errorf("AppliedSeqs = %v, %v; want %s at 2 and %s at 1, %s absent", applied, err, room, acct, other)
		}
		got, err := search.VisibleSeqs(ctx(t), cl, index, []string{room, acct, other})
		if err != nil {
			t.Fatal(err)
		}
		// (A renamed or registered account's name may show early, with the seq stored before the batch.)
		if got[room] != 0 || got[acct] != 0 {
			t.Errorf("before a refresh VisibleSeqs = %v, want nothing applied (not searchable yet)", got)
		}
		if err := cl.Refresh(ctx(t), index); err != nil {
			t.Fatal(err)
		}
		got, err = search.VisibleSeqs(ctx(t), cl, index, []string{room, acct, other})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[room] != 2 || got[acct] != 1 {
			t.Errorf("VisibleSeqs = %v, want %s at 2 and %s at 1, %s absent", got, room, acct, other)
		}
		if hits := f.find(t, "findable"); len(hits) != 1 {
			t.Errorf("search found %v, want the batch's message", hits)
		}
	})
}
