// Package app holds the writer's command handlers: each turns one domain command into a repository update, so the
// decision stays in the domain and the transaction stays in the adapter.
package app

import (
	"context"
	"errors"

	"github.com/cqrses-aws/pipeline/writer/domain"
)

// Errors of the command side beyond the domain's own; the ports map each to an HTTP status.
var (
	// ErrPreconditionFailed means the aggregate's version differs from the If-Match the caller sent (412).
	ErrPreconditionFailed = errors.New("aggregate version does not match If-Match")
	// ErrIdempotencyKeyExists means another try of a command with the same key recorded its response first.
	ErrIdempotencyKeyExists = errors.New("idempotency key already recorded")
	// ErrUnavailable means the event store could not be reached; the command may be retried (503).
	ErrUnavailable = errors.New("event store unavailable")
	// ErrContention means the aggregate kept changing under the command until the retries ran out (503).
	ErrContention = errors.New("aggregate changed concurrently too often")
	// ErrNotRegistered means the caller has no account yet and must register before this command (403).
	ErrNotRegistered = errors.New("account not registered")
)

// Meta describes the command being run: who asks, and the ids that trace it through the events.
type Meta struct {
	Actor         domain.AccountID
	CommandID     string
	CorrelationID string
	TraceParent   string
}

// Options are the per-request choices of a command: its metadata, an optional If-Match version and an optional
// idempotency key whose response is recorded in the same transaction as the events.
type Options struct {
	Meta        Meta
	IfMatch     *int64
	Idempotency *Idempotency
}

// Idempotency asks the repository to record the command's response under Key, atomically with its events.
type Idempotency struct {
	Key         string
	RequestHash string
	// Render builds the response to remember from the command's result.
	Render func(Result) ([]byte, error)
}

// Result is what a successful command reports: the aggregate, its version after the command, and for
// PostMessage the new message's id.
type Result struct {
	AggregateID string
	Version     int64
	MessageID   domain.MessageID
}

// Write is what a repository needs besides the decision: the metadata to stamp on the events, the If-Match
// version, and the idempotency record to write with them.
type Write struct {
	Meta        Meta
	IfMatch     *int64
	Idempotency *IdempotencyRecord
}

// IdempotencyRecord is the record a repository writes with the events; Response renders it once the version
// after the append is known.
type IdempotencyRecord struct {
	Key         string
	RequestHash string
	Response    func(version int64) ([]byte, error)
}

// RoomRepository loads rooms and appends their events.
type RoomRepository interface {
	// Update loads the room, checks w.IfMatch (ErrPreconditionFailed), calls decide and appends the events it
	// returns in one transaction with w's idempotency record; when another writer appended first it reloads and
	// decides again, a bounded number of times (ErrContention). It returns the room's version after the append,
	// decide's error as is, ErrIdempotencyKeyExists or ErrUnavailable (wrapped).
	Update(ctx context.Context, id domain.RoomID, w Write, decide func(*domain.Room) ([]domain.Event, error)) (int64, error)
}

// AccountRepository loads accounts and appends their events.
type AccountRepository interface {
	// Update is RoomRepository.Update for accounts.
	Update(ctx context.Context, id domain.AccountID, w Write, decide func(*domain.Account) ([]domain.Event, error)) (int64, error)
	// Exists reports whether the account is registered; it returns ErrUnavailable (wrapped) when the store is down.
	Exists(ctx context.Context, id domain.AccountID) (bool, error)
}

// Messages finds the messages of rooms (a room keeps nothing per message).
type Messages interface {
	// Message returns message id of room as of the newest append that changed it, read strongly consistently,
	// and found false when it was never posted in room; it returns ErrUnavailable (wrapped) when the store is
	// down.
	Message(ctx context.Context, room domain.RoomID, id domain.MessageID) (m domain.Message, found bool, err error)
}

// IDs makes the ids the writer chooses for new rooms and messages.
type IDs interface {
	NewRoomID() domain.RoomID
	// NewMessageID returns the id of a message whose MessagePosted event has seq in its room.
	NewMessageID(seq int64) domain.MessageID
}

// App runs the writer's commands.
type App struct {
	rooms    RoomRepository
	accounts AccountRepository
	messages Messages
	ids      IDs
}

// New returns the command handlers over the given repositories, message reader and id source.
func New(rooms RoomRepository, accounts AccountRepository, messages Messages, ids IDs) *App {
	return &App{rooms: rooms, accounts: accounts, messages: messages, ids: ids}
}

// write turns the request options into a repository write for aggregate id (and, for PostMessage, the message
// id as it is when the response is rendered: chosen anew on each attempt).
func write(opts Options, id string, message *domain.MessageID) Write {
	w := Write{Meta: opts.Meta, IfMatch: opts.IfMatch}
	if idem := opts.Idempotency; idem != nil {
		w.Idempotency = &IdempotencyRecord{
			Key:         idem.Key,
			RequestHash: idem.RequestHash,
			Response: func(version int64) ([]byte, error) {
				res := Result{AggregateID: id, Version: version}
				if message != nil {
					res.MessageID = *message
				}
				return idem.Render(res)
			},
		}
	}
	return w
}
