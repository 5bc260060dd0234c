package readmodel_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/projectors/readmodel"
	"github.com/cqrses-aws/pipeline/schemas"
)

// t0 is the time of the first event of a journal; each next event is one second later.
var t0 = time.Date(2025, 11, 20, 9, 0, 0, 0, time.UTC)

// at returns the time of the journal's i-th event (from 0).
func at(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) }

// journal numbers events the way the writer does: seq 1, 2, 3… per aggregate, one second apart.
type journal struct {
	tb     testing.TB
	seqs   map[string]int64
	events []schemas.Envelope
}

func newJournal(tb testing.TB) *journal {
	return &journal{tb: tb, seqs: map[string]int64{}}
}

// add appends the next event of aggregate id; the version is the current one, or 1 for a *MemberAddedV1.
func (j *journal) add(eventType, id string, payload any) schemas.Envelope {
	j.tb.Helper()
	aggType, ok := schemas.AggregateTypeOf(eventType)
	if !ok {
		j.tb.Fatalf("unknown event type %s", eventType)
	}
	version, _ := schemas.Current(eventType)
	if _, v1 := payload.(schemas.MemberAddedV1); v1 {
		version = 1
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		j.tb.Fatal(err)
	}
	j.seqs[aggType+"/"+id]++
	env := schemas.Envelope{
		ID: "01KAG90HEVE4PFY6RK1APEV504", Type: eventType, Version: version, AggregateType: aggType,
		AggregateID: id, Seq: j.seqs[aggType+"/"+id], OccurredAt: at(len(j.events)),
		CorrelationID: "req-1", CausationID: "01KAG90HEVEMK0TRC6CHQMH7NF", CommandID: "01KAG90HEVEMK0TRC6CHQMH7NF",
		Payload: raw,
	}
	j.events = append(j.events, env)
	return env
}

func (j *journal) register(id, name string) schemas.Envelope {
	return j.add(schemas.TypeAccountRegistered, id, schemas.AccountRegisteredV1{Name: name})
}

func (j *journal) renameAccount(id, name string) schemas.Envelope {
	return j.add(schemas.TypeAccountRenamed, id, schemas.AccountRenamedV1{Name: name})
}

func (j *journal) createRoom(id, name, by string) schemas.Envelope {
	return j.add(schemas.TypeRoomCreated, id, schemas.RoomCreatedV1{Name: name, CreatedBy: by})
}

func (j *journal) renameRoom(id, name, by string) schemas.Envelope {
	return j.add(schemas.TypeRoomRenamed, id, schemas.RoomRenamedV1{Name: name, RenamedBy: by})
}

func (j *journal) addMember(room, account string, role schemas.Role, by string) schemas.Envelope {
	return j.add(schemas.TypeMemberAdded, room, schemas.MemberAddedV2{AccountID: account, Role: role, AddedBy: by})
}

func (j *journal) post(room, msg, author, text string) schemas.Envelope {
	return j.add(schemas.TypeMessagePosted, room, schemas.MessagePostedV1{MessageID: msg, AuthorID: author, Text: text})
}

// fold applies events to a new model, failing the test on an error.
func fold(tb testing.TB, events []schemas.Envelope) *readmodel.Model {
	tb.Helper()
	m := readmodel.New()
	for _, env := range events {
		if err := m.Apply(env); err != nil {
			tb.Fatalf("Apply(%s seq %d of %s): %v", env.Type, env.Seq, env.AggregateID, err)
		}
	}
	return m
}

// assertModel fails the test with the differences when got is not want.
func assertModel(tb testing.TB, got, want *readmodel.Model) {
	tb.Helper()
	if diff := got.Diff(want); len(diff) > 0 {
		tb.Errorf("model differs from the expected one (this = got, other = want):\n%s", strings.Join(diff, "\n"))
	}
}

// model builds an expected model from its rows; rooms get an empty member map when they have none.
func model(accounts []readmodel.Account, rooms []readmodel.Room, messages []readmodel.Message) *readmodel.Model {
	m := &readmodel.Model{
		Accounts: map[string]readmodel.Account{},
		Rooms:    map[string]readmodel.Room{},
		Messages: map[string]readmodel.Message{},
	}
	for _, a := range accounts {
		m.Accounts[a.ID] = a
	}
	for _, r := range rooms {
		if r.Members == nil {
			r.Members = map[string]readmodel.Member{}
		}
		m.Rooms[r.ID] = r
	}
	for _, msg := range messages {
		m.Messages[msg.ID] = msg
	}
	return m
}

// members builds a member map.
func members(ms ...readmodel.Member) map[string]readmodel.Member {
	out := map[string]readmodel.Member{}
	for _, m := range ms {
		out[m.AccountID] = m
	}
	return out
}
