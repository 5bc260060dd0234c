// Package app is the query side's application layer: the queries of the HTTP contract over the read models,
// with the read side's authorization (a caller sees only the rooms it is a member of) and read-your-writes (a
// query may wait, bounded, until the read model behind it has applied a given write). It knows the read models
// only through the small interfaces below.
package app

import (
	"context"
	"errors"
	"time"

	"github.com/cqrses-aws/pipeline/internal/consistency"
)

// ErrNotFound means the room or account does not exist or is not visible to the caller: the two are one answer,
// so that nothing leaks a room's existence.
var ErrNotFound = errors.New("not found")

// ErrUnavailable means a read model could not be reached; the client should retry later.
var ErrUnavailable = errors.New("read model unavailable")

// RoomSummary is one line of a caller's room list.
type RoomSummary struct {
	ID            string
	Name          string
	MemberCount   int
	LastMessageAt *time.Time
	Version       int64
}

// Member is one member of a room, with the account's current name.
type Member struct {
	AccountID string
	Name      string
	Role      string
}

// Room is a room's details.
type Room struct {
	ID      string
	Name    string
	Version int64
	Members []Member
}

// Message is a live message of a room, with its sender's current name.
type Message struct {
	ID         string
	RoomID     string
	SenderID   string
	SenderName string
	Text       string
	PostedAt   time.Time
	EditedAt   *time.Time
}

// Account is an account's public view.
type Account struct {
	ID   string
	Name string
}

// Hit is one search result: the message, its room and sender names, and an HTML-escaped fragment of its text
// with the matches in <em>…</em>.
type Hit struct {
	MessageID  string
	RoomID     string
	RoomName   string
	SenderID   string
	SenderName string
	Text       string
	Highlight  string
	PostedAt   time.Time
}

// MessageKey is a position in a room's messages or in search results, both newest first: the next page starts
// after the message (PostedAt, ID).
type MessageKey struct {
	PostedAt time.Time `json:"t"`
	ID       string    `json:"id"`
}

// Page is a page of items and, when more may follow, the key of its last item.
type Page[T any] struct {
	Items []T
	// Next is the position after the last item, nil at the end.
	Next *MessageKey
}

// Views reads the Postgres views. Every method returns ErrUnavailable (wrapped) when the database cannot be
// reached.
type Views interface {
	// Rooms returns up to limit rooms the caller is a member of, ordered by id, after the room id after ("" for
	// the first page).
	Rooms(ctx context.Context, caller, after string, limit int) ([]RoomSummary, error)
	// Room returns the room with its members; ErrNotFound unless the caller is a member.
	Room(ctx context.Context, caller, roomID string) (Room, error)
	// Messages returns up to limit live messages of the room, newest first, after the position after (nil: from
	// the newest); ErrNotFound unless the caller is a member.
	Messages(ctx context.Context, caller, roomID string, after *MessageKey, limit int) ([]Message, error)
	// Account returns the account; ErrNotFound when unknown.
	Account(ctx context.Context, id string) (Account, error)
	// MemberRooms returns the ids of the rooms the caller is a member of.
	MemberRooms(ctx context.Context, caller string) ([]string, error)
	// AppliedSeqs returns the seq up to which the views applied each of ids; an id they never applied is absent.
	AppliedSeqs(ctx context.Context, ids []string) (map[string]int64, error)
	// Vouch returns each of messageIDs that the views hold (live, not deleted) as they show it; absent ones are
	// not in the views (never posted there yet, or deleted).
	Vouch(ctx context.Context, messageIDs []string) (map[string]Vouched, error)
}

// Vouched is a message as the views show it: what a search hit must agree with to be shown.
type Vouched struct {
	RoomID, RoomName, Text string
}

// SearchQuery is a search over message text within rooms.
type SearchQuery struct {
	// Text is matched as text (every word), never parsed as a query language.
	Text string
	// Rooms are the only rooms searched; empty finds nothing.
	Rooms []string
	// After is the position after which the page starts (nil: the newest).
	After *MessageKey
	Limit int
}

// Search reads the search index. It returns ErrUnavailable (wrapped) when the server cannot be reached.
type Search interface {
	// Search returns up to q.Limit matching messages, newest first.
	Search(ctx context.Context, q SearchQuery) ([]Hit, error)
}

// Progress tells when a read model has applied a write.
type Progress interface {
	// Wait returns true once aggregateID is applied up to seq, false when ctx ends first.
	Wait(ctx context.Context, aggregateID string, seq int64) bool
}

// Config wires the queries to the read models.
type Config struct {
	Views Views
	// ViewsProgress tells when the Postgres views applied a write.
	ViewsProgress Progress
	Search        Search
	// SearchProgress tells when the search index applied a write.
	SearchProgress Progress
	// ConsistencyTimeout bounds a read-your-writes wait; default 2 s.
	ConsistencyTimeout time.Duration
	// Observe, when set, is told how each read-your-writes wait ended: the read model ("views" or "search"),
	// whether the write was applied in time, and how long it took.
	Observe func(model string, applied bool, took time.Duration)
}

// Queries answers the query side's requests; it is safe for concurrent use.
type Queries struct {
	cfg Config
}

// New returns the queries over cfg's read models; it fails when one is missing.
func New(cfg Config) (*Queries, error) {
	if cfg.Views == nil || cfg.ViewsProgress == nil || cfg.Search == nil || cfg.SearchProgress == nil {
		return nil, errors.New("app: every read model and its progress are required")
	}
	if cfg.ConsistencyTimeout <= 0 {
		cfg.ConsistencyTimeout = 2 * time.Second
	}
	return &Queries{cfg: cfg}, nil
}

// Options are what every query may carry.
type Options struct {
	// Caller is the authenticated account.
	Caller string
	// ConsistentWith, when set, makes the query wait (bounded) until the read model applied that write.
	ConsistentWith *consistency.Token
}

// Fresh says whether an answer reflects the write the query asked to be consistent with; it is true when none was
// asked for.
type Fresh bool

// await waits until every one of the models applied the token's write, all within one ConsistencyTimeout; it
// returns false when one did not in time.
func (q *Queries) await(ctx context.Context, tok *consistency.Token, models ...string) Fresh {
	if tok == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, q.cfg.ConsistencyTimeout)
	defer cancel()
	for _, model := range models {
		p := q.cfg.ViewsProgress
		if model == ModelSearch {
			p = q.cfg.SearchProgress
		}
		start := time.Now()
		ok := p.Wait(ctx, tok.AggregateID, tok.Seq)
		if q.cfg.Observe != nil {
			q.cfg.Observe(model, ok, time.Since(start))
		}
		if !ok {
			return false
		}
	}
	return true
}

// The read models a query may wait for.
const (
	ModelViews  = "views"
	ModelSearch = "search"
)
