package adapters_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/projectiontest"
	"github.com/cqrses-aws/pipeline/projectors/search"
	"github.com/cqrses-aws/pipeline/projectors/views"
	"github.com/cqrses-aws/pipeline/queryapi/adapters"
	"github.com/cqrses-aws/pipeline/queryapi/app"
	"github.com/cqrses-aws/pipeline/schemas"
)

// Ids shaped like the writer's, distinct per test run.
type ids struct{ room1, room2, ann, bob, carol string }

func newIDs(t *testing.T) ids {
	u := strings.ToUpper(strings.ReplaceAll(testkit.UniqueName(t, "x"), "-", ""))
	return ids{room1: "room-1" + u, room2: "room-2" + u, ann: "ann-" + u, bob: "bob-" + u, carol: "carol-" + u}
}

// history is the model both readers are tested on: ann's room1 with bob, carol's room2, 25 messages in room1
// (the 13th deleted, the 20th edited), one in room2, and bob renamed.
func history(t *testing.T, id ids) (*projectiontest.Journal, []projection.Event) {
	j := projectiontest.NewJournal(t, time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	ev := []projection.Event{
		j.Add(schemas.TypeAccountRegistered, id.ann, schemas.AccountRegisteredV1{Name: "Ann"}),
		j.Add(schemas.TypeAccountRegistered, id.bob, schemas.AccountRegisteredV1{Name: "Bob"}),
		j.Add(schemas.TypeAccountRegistered, id.carol, schemas.AccountRegisteredV1{Name: "Carol"}),
		j.Add(schemas.TypeRoomCreated, id.room1, schemas.RoomCreatedV1{Name: "general", CreatedBy: id.ann}),
		j.Add(schemas.TypeMemberAdded, id.room1, schemas.MemberAddedV2{AccountID: id.bob, Role: schemas.RoleMember, AddedBy: id.ann}),
		j.Add(schemas.TypeRoomCreated, id.room2, schemas.RoomCreatedV1{Name: "secret", CreatedBy: id.carol}),
		j.Add(schemas.TypeMessagePosted, id.room2, schemas.MessagePostedV1{MessageID: "msg-secret", AuthorID: id.carol, Text: "会議 secret plans"}),
	}
	for i := range 25 {
		ev = append(ev, j.Add(schemas.TypeMessagePosted, id.room1, schemas.MessagePostedV1{
			MessageID: fmt.Sprintf("msg-%02d", i), AuthorID: []string{id.ann, id.bob}[i%2],
			Text: fmt.Sprintf("明日の会議 number %d <b>", i)}))
	}
	ev = append(ev,
		j.Add(schemas.TypeMessageDeleted, id.room1, schemas.MessageDeletedV1{MessageID: "msg-12", DeletedBy: id.ann}),
		j.Add(schemas.TypeMessageEdited, id.room1, schemas.MessageEditedV1{MessageID: "msg-20", Text: "edited text", EditedBy: id.ann}),
		j.Add(schemas.TypeAccountRenamed, id.bob, schemas.AccountRenamedV1{Name: "Robert"}),
	)
	return j, ev
}

func TestViewsPostgresReader(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := testkit.MustStack(t)
	pool, err := pgxpool.New(ctx, st.Postgres.URL.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	name := strings.ReplaceAll(testkit.UniqueName(t, "qviews"), "-", "_")
	t.Cleanup(func() {
		for _, s := range []string{name, name + "_v1"} {
			if _, err := pool.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{s}.Sanitize()+" CASCADE"); err != nil {
				t.Errorf("drop %s: %v", s, err)
			}
		}
	})
	p, err := views.New(pool, views.Config{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	target, err := p.Open(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = target.Close() }()
	id := newIDs(t)
	j, events := history(t, id)
	if err := projectiontest.Apply(ctx, target, events); err != nil {
		t.Fatal(err)
	}
	if err := p.Switch(ctx, 0, 1); err != nil {
		t.Fatal(err)
	}
	r := adapters.NewViewsPostgresReader(pool, name)

	rooms, err := r.Rooms(ctx, id.bob, "", 10)
	if err != nil || len(rooms) != 1 || rooms[0].ID != id.room1 || rooms[0].MemberCount != 2 || rooms[0].LastMessageAt == nil {
		t.Errorf("bob's rooms = %+v, %v; want room1 with 2 members and a last message time", rooms, err)
	}
	if rooms, err := r.Rooms(ctx, id.bob, id.room1, 10); err != nil || len(rooms) != 0 {
		t.Errorf("bob's rooms after room1 = %+v, %v; want none", rooms, err)
	}

	room, err := r.Room(ctx, id.bob, id.room1)
	if err != nil {
		t.Fatal(err)
	}
	want := []app.Member{{AccountID: id.ann, Name: "Ann", Role: "admin"}, {AccountID: id.bob, Name: "Robert", Role: "member"}}
	if room.Name != "general" || room.Version != j.Seq(id.room1) || !slices.Equal(room.Members, want) {
		t.Errorf("room1 = %+v, want general at %d with %+v", room, j.Seq(id.room1), want)
	}
	for _, who := range []string{id.carol, "nobody"} {
		if _, err := r.Room(ctx, who, id.room1); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("room1 for %s: %v, want ErrNotFound", who, err)
		}
		if _, err := r.Messages(ctx, who, id.room1, nil, 10); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("room1's messages for %s: %v, want ErrNotFound", who, err)
		}
	}

	// Walk room1's messages 7 at a time: newest first, each live one once, names as they are now.
	var walked []string
	var after *app.MessageKey
	for {
		page, err := r.Messages(ctx, id.bob, id.room1, after, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			walked = append(walked, m.ID)
			if m.SenderID == id.bob && m.SenderName != "Robert" {
				t.Errorf("message %s by %q, want Robert", m.ID, m.SenderName)
			}
			if (m.ID == "msg-20") != (m.EditedAt != nil) {
				t.Errorf("message %s edited at %v", m.ID, m.EditedAt)
			}
		}
		if len(page) < 7 {
			break
		}
		last := page[len(page)-1]
		after = &app.MessageKey{PostedAt: last.PostedAt, ID: last.ID}
	}
	var wantIDs []string
	for i := 24; i >= 0; i-- {
		if i != 12 {
			wantIDs = append(wantIDs, fmt.Sprintf("msg-%02d", i))
		}
	}
	if !slices.Equal(walked, wantIDs) {
		t.Errorf("walked %v, want %v", walked, wantIDs)
	}

	if a, err := r.Account(ctx, id.bob); err != nil || a.Name != "Robert" {
		t.Errorf("Account(bob) = %+v, %v", a, err)
	}
	if _, err := r.Account(ctx, "nobody"); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("Account(nobody): %v, want ErrNotFound", err)
	}
	if got, err := r.MemberRooms(ctx, id.carol); err != nil || !slices.Equal(got, []string{id.room2}) {
		t.Errorf("carol's member rooms = %v, %v", got, err)
	}
	seqs, err := r.AppliedSeqs(ctx, []string{id.room1, id.bob, "nobody"})
	if err != nil || len(seqs) != 2 || seqs[id.room1] != j.Seq(id.room1) || seqs[id.bob] != 2 {
		t.Errorf("AppliedSeqs = %v, %v; want room1 at %d and bob at 2", seqs, err, j.Seq(id.room1))
	}

	vouched, err := r.Vouch(ctx, []string{"msg-20", "msg-12", "msg-secret", "nothing"})
	if want := (app.Vouched{RoomID: id.room1, RoomName: "general", Text: "edited text"}); err != nil ||
		len(vouched) != 2 || vouched["msg-20"] != want || vouched["msg-secret"].Text != "会議 secret plans" {
		t.Errorf("Vouch = %+v, %v; want msg-20 as %+v and msg-secret, not the deleted msg-12", vouched, err, want)
	}

	missing := adapters.NewViewsPostgresReader(pool, name+"_none")
	if _, err := missing.Rooms(ctx, id.bob, "", 10); !errors.Is(err, app.ErrUnavailable) {
		t.Errorf("Rooms without views: %v, want ErrUnavailable", err)
	}
}

func TestMessagesSearchReader(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cl := search.NewOpenSearchClient(testkit.OpenSearch(t))
	name := testkit.UniqueName(t, "qsearch")
	p, err := search.New(cl, search.Config{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cl.DeleteIndex(context.Background(), p.Index(1)); err != nil {
			t.Errorf("delete index: %v", err)
		}
	})
	target, err := p.Open(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = target.Close() }()
	id := newIDs(t)
	j, events := history(t, id)
	if err := projectiontest.Apply(ctx, target, events); err != nil {
		t.Fatal(err)
	}
	progress := adapters.SearchProgress(cl, name)
	if err := p.Switch(ctx, 0, 1); err != nil { // refreshes
		t.Fatal(err)
	}
	r := adapters.NewMessagesSearchReader(cl, name)

	search := func(text string, rooms []string, after *app.MessageKey, limit int) []app.Hit {
		t.Helper()
		hits, err := r.Search(ctx, app.SearchQuery{Text: text, Rooms: rooms, After: after, Limit: limit})
		if err != nil {
			t.Fatalf("search %q: %v", text, err)
		}
		return hits
	}
	// Walk every match in room1, newest first, 10 at a time.
	var walked []string
	var after *app.MessageKey
	for {
		page := search("会議", []string{id.room1}, after, 10)
		for _, h := range page {
			walked = append(walked, h.MessageID)
			if h.RoomName != "general" || h.RoomID != id.room1 {
				t.Errorf("hit %+v, want room1 general", h)
			}
			if h.SenderID == id.bob && h.SenderName != "Robert" {
				t.Errorf("hit %s by %q, want Robert", h.MessageID, h.SenderName)
			}
			if !strings.Contains(h.Highlight, "<em>会議</em>") || strings.Contains(h.Highlight, "<b>") {
				t.Errorf("highlight %q: want the match in <em> and the text's HTML escaped", h.Highlight)
			}
		}
		if len(page) < 10 {
			break
		}
		last := page[len(page)-1]
		after = &app.MessageKey{PostedAt: last.PostedAt, ID: last.MessageID}
	}
	var wantIDs []string
	for i := 24; i >= 0; i-- {
		if i != 12 && i != 20 { // deleted; edited to a text without the word
			wantIDs = append(wantIDs, fmt.Sprintf("msg-%02d", i))
		}
	}
	if !slices.Equal(walked, wantIDs) {
		t.Errorf("walked %v, want %v", walked, wantIDs)
	}
	if hits := search("edited", []string{id.room1}, nil, 10); len(hits) != 1 || hits[0].MessageID != "msg-20" {
		t.Errorf("search for the edited text = %+v", hits)
	}
	// Query syntax is text: nothing of room2 leaks into a search of room1.
	for _, q := range []string{"secret", `room_id:*`, "* OR secret", `"unbalanced`, `\`, "kind:states"} {
		for _, h := range search(q, []string{id.room1}, nil, 10) {
			t.Errorf("search %q in room1 found %+v", q, h)
		}
	}
	if hits := search("secret", []string{id.room2}, nil, 10); len(hits) != 1 {
		t.Errorf("search in room2 = %+v, want carol's message", hits)
	}
	if hits := search("会議", nil, nil, 10); len(hits) != 0 {
		t.Errorf("search in no room = %+v, want nothing", hits)
	}

	seqs, err := progress(ctx, []string{id.room1, id.bob, "nobody"})
	if err != nil || seqs[id.room1] != j.Seq(id.room1) || seqs[id.bob] != 2 || len(seqs) != 2 {
		t.Errorf("search progress = %v, %v; want room1 at %d and bob at 2", seqs, err, j.Seq(id.room1))
	}

	// A batch applied after the last refresh: the progress reader refreshes, so the waiting query sees it at
	// once, message included, instead of after the next periodic refresh.
	late := j.Add(schemas.TypeMessagePosted, id.room1, schemas.MessagePostedV1{MessageID: "msg-late", AuthorID: id.ann, Text: "latecomer"})
	if err := projectiontest.Apply(ctx, target, []projection.Event{late}); err != nil {
		t.Fatal(err)
	}
	if seqs, err := progress(ctx, []string{id.room1}); err != nil || seqs[id.room1] != late.Seq {
		t.Errorf("search progress after a late batch = %v, %v; want room1 at %d", seqs, err, late.Seq)
	}
	if hits := search("latecomer", []string{id.room1}, nil, 10); len(hits) != 1 {
		t.Errorf("search for the late message = %+v, want it", hits)
	}
}
