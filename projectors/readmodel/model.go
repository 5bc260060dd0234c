// Package readmodel is the reference read model: a plain in-memory fold of envelopes that tests use to compute
// the expected read model straight from the journal's events and to compare it (Diff) with what a projection
// stored. It imports only the standard library and schemas.
package readmodel

import (
	"fmt"
	"time"

	"github.com/cqrses-aws/pipeline/schemas"
)

// Model is the read model: accounts, live rooms with their members, and live messages, with names
// denormalized the way the projections store them. Build it with New and Apply; Diff compares two models,
// whichever way they were built. A Model is not safe for concurrent use.
type Model struct {
	Accounts map[string]Account // every registered account
	Rooms    map[string]Room    // live rooms only (a RoomDeleted room is removed, with its messages)
	Messages map[string]Message // live messages of live rooms only (MessageDeleted removes one)

	// The last applied seq of every aggregate seen, deleted rooms included, so that duplicates stay ignored.
	roomSeqs    map[string]int64
	accountSeqs map[string]int64
	// Indexes for the denormalized names, so a rename touches only the rows it changes.
	memberOf     map[string]set // account id → live rooms it is a member of
	sentBy       map[string]set // account id → live messages it wrote
	roomMessages map[string]set // room id → its live messages
}

// Account is one registered account.
type Account struct {
	ID, Name string
	Version  int64 // the account's last seq
}

// Room is one live room.
type Room struct {
	ID, Name      string
	Version       int64             // the room's last seq (any room event)
	Members       map[string]Member // by account id
	LastMessageAt time.Time         // OccurredAt of the room's latest MessagePosted (even if later deleted); zero if none
}

// Member is one member of a room.
type Member struct {
	AccountID, Name string // Name is the account's current name, "" while unknown
	Role            schemas.Role
}

// Message is one live message.
type Message struct {
	ID, RoomID, RoomName, SenderID, SenderName, Text string    // RoomName/SenderName: current names ("" while unknown)
	PostedAt                                         time.Time // OccurredAt of MessagePosted
	EditedAt                                         time.Time // OccurredAt of the last MessageEdited; zero if never edited
}

type set map[string]struct{}

// New returns an empty model, ready for Apply.
func New() *Model {
	m := &Model{}
	m.init()
	return m
}

// init makes the maps that are still nil, so that a Model literal can be applied to as well.
func (m *Model) init() {
	if m.Accounts == nil {
		m.Accounts = map[string]Account{}
	}
	if m.Rooms == nil {
		m.Rooms = map[string]Room{}
	}
	if m.Messages == nil {
		m.Messages = map[string]Message{}
	}
	if m.roomSeqs == nil {
		m.roomSeqs, m.accountSeqs = map[string]int64{}, map[string]int64{}
		m.memberOf, m.sentBy, m.roomMessages = map[string]set{}, map[string]set{}, map[string]set{}
	}
}

// Apply folds one envelope of any version: it calls schemas.Decode, so MemberAdded v1 is upcast. An event whose
// seq is not its aggregate's last seq + 1 (a duplicate, or one after a gap) is ignored, and so is one that does
// not fit the model (e.g. an event of a deleted room), which the writer never emits. It returns an error
// wrapping a schemas sentinel for an event that does not decode or whose aggregate type is not its type's; the
// model is then unchanged.
func (m *Model) Apply(env schemas.Envelope) error {
	m.init()
	payload, err := schemas.Decode(env)
	if err != nil {
		return fmt.Errorf("apply %s seq %d of %s: %w", env.Type, env.Seq, env.AggregateID, err)
	}
	if want, _ := schemas.AggregateTypeOf(env.Type); env.AggregateType != want {
		return fmt.Errorf("apply %s seq %d of %s: %w: aggregate_type %q, want %q",
			env.Type, env.Seq, env.AggregateID, schemas.ErrInvalid, env.AggregateType, want)
	}
	seqs := m.roomSeqs
	if env.AggregateType == schemas.AggregateTypeAccount {
		seqs = m.accountSeqs
	}
	if env.Seq != seqs[env.AggregateID]+1 {
		return nil
	}
	seqs[env.AggregateID] = env.Seq
	at := env.OccurredAt.UTC()
	switch p := payload.(type) {
	case *schemas.AccountRegisteredV1:
		m.nameAccount(env.AggregateID, p.Name, env.Seq)
	case *schemas.AccountRenamedV1:
		m.nameAccount(env.AggregateID, p.Name, env.Seq)
	case *schemas.RoomCreatedV1:
		m.createRoom(env.AggregateID, p, env.Seq)
	default:
		m.applyToRoom(env.AggregateID, env.Seq, at, payload)
	}
	return nil
}
