package eventgen

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/cqrses-aws/pipeline/schemas"
)

// v1Share is the share of MemberAdded events written as version 1 (no role), in thousandths, to exercise the
// readers' upcasting.
const v1Share = 20

// Generator makes one history, event by event. Its memory stays bounded: per registered account its seq, per
// live room its members and up to maxTrackedMessages of its live messages (ids and authors, never texts). A
// Generator is not safe for concurrent use.
type Generator struct {
	cfg   Config
	rng   *rand.Rand
	types []string // the mix's event types, sorted
	cumul []int    // cumulative weights of types
	total int
	now   time.Time

	accounts []account // registered accounts, acct-0 … acct-(n-1)
	rooms    []*room   // live rooms
	buf      []byte    // the payload being written
}

// account is a registered account: its id and its last seq.
type account struct {
	id  string
	seq int64
}

// New returns a generator of the history cfg describes (see Config for the defaults).
func New(cfg Config) *Generator {
	cfg = cfg.withDefaults()
	g := &Generator{
		cfg: cfg,
		rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15)),
		now: cfg.Start,
	}
	for _, t := range schemas.Types() {
		if w := cfg.Mix[t]; w > 0 {
			g.total += w
			g.types = append(g.types, t)
			g.cumul = append(g.cumul, g.total)
		}
	}
	return g
}

// Events returns the next n events.
func (g *Generator) Events(n int) []schemas.Envelope {
	out := make([]schemas.Envelope, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}

// Next returns the next event: valid per schemas.Validate, seq one more than its aggregate's last, occurred_at
// (UTC, whole milliseconds) later than the previous event's, and allowed by the domain's rules.
func (g *Generator) Next() schemas.Envelope {
	g.now = g.now.Add(time.Duration(1+g.rng.IntN(1000)) * time.Millisecond)
	switch {
	case len(g.accounts) == 0:
		return g.register()
	case len(g.rooms) == 0:
		return g.createRoom()
	}
	if env, ok := g.try(g.pick()); ok {
		return env
	}
	return g.post(g.pickRoom())
}

// NextOf returns the next event with type eventType, as Next would make it had it drawn that type, with false
// (and no event) when the state does not allow one now (an edit with no message to edit).
func (g *Generator) NextOf(eventType string) (schemas.Envelope, bool) {
	if len(g.accounts) == 0 || len(g.rooms) == 0 {
		return schemas.Envelope{}, false
	}
	g.now = g.now.Add(time.Duration(1+g.rng.IntN(1000)) * time.Millisecond)
	return g.try(eventType)
}

// pick draws an event type from the mix, or "" when the mix is empty.
func (g *Generator) pick() string {
	if g.total == 0 {
		return ""
	}
	w := g.rng.IntN(g.total)
	for i, c := range g.cumul {
		if w < c {
			return g.types[i]
		}
	}
	return ""
}

// try makes an event of eventType, with false when the state does not allow one now.
func (g *Generator) try(eventType string) (schemas.Envelope, bool) {
	switch eventType {
	case schemas.TypeAccountRegistered:
		if len(g.accounts) < g.cfg.Accounts {
			return g.register(), true
		}
	case schemas.TypeAccountRenamed:
		return g.renameAccount(), true
	case schemas.TypeRoomCreated:
		if len(g.rooms) < g.cfg.Rooms {
			return g.createRoom(), true
		}
	case schemas.TypeRoomRenamed:
		return g.renameRoom(g.pickRoom()), true
	case schemas.TypeMemberAdded:
		return g.addMember(g.pickRoom())
	case schemas.TypeMemberRemoved:
		return g.removeMember(g.pickRoom())
	case schemas.TypeMessagePosted:
		return g.post(g.pickRoom()), true
	case schemas.TypeMessageEdited:
		return g.edit(g.pickRoom())
	case schemas.TypeMessageDeleted:
		return g.deleteMessage(g.pickRoom())
	case schemas.TypeRoomDeleted:
		return g.deleteRoom(), true
	}
	return schemas.Envelope{}, false
}

// pickRoom draws a live room, older rooms more often: a few busy rooms and a long tail.
func (g *Generator) pickRoom() *room {
	r := g.rng.Float64()
	return g.rooms[int(r*r*float64(len(g.rooms)))]
}

// pickAccount draws a registered account.
func (g *Generator) pickAccount() *account { return &g.accounts[g.rng.IntN(len(g.accounts))] }

func (g *Generator) register() schemas.Envelope {
	g.accounts = append(g.accounts, account{id: "acct-" + strconv.Itoa(len(g.accounts))})
	a := &g.accounts[len(g.accounts)-1]
	g.buf = appendObject(g.buf[:0], "name", g.personName())
	return g.accountEvent(a, schemas.TypeAccountRegistered)
}

func (g *Generator) renameAccount() schemas.Envelope {
	a := g.pickAccount()
	g.buf = appendObject(g.buf[:0], "name", g.personName())
	return g.accountEvent(a, schemas.TypeAccountRenamed)
}

func (g *Generator) accountEvent(a *account, eventType string) schemas.Envelope {
	a.seq++
	return g.envelope(eventType, 1, schemas.AggregateTypeAccount, a.id, a.seq)
}
