package views_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/schemas"
)

// workload describes a random, valid journal: what the writer could have emitted.
type workload struct {
	events, rooms, accounts int
	seed                    uint64
}

type genRoom struct {
	id       string
	created  bool
	deleted  bool
	members  []string
	messages []string
}

// generate returns the workload's events in the writer's order: about 70% MessagePosted, the rest every other
// type, with accounts registered at random moments (so some messages precede their author's registration).
func (w workload) generate(tb testing.TB) []projection.Event {
	tb.Helper()
	rng := rand.New(rand.NewPCG(w.seed, 1))
	j := newJournal(tb)
	rooms := make([]*genRoom, w.rooms)
	for i := range rooms {
		rooms[i] = &genRoom{id: fmt.Sprintf("room-%05d", i)}
	}
	registered := make([]bool, w.accounts)
	account := func() string { return fmt.Sprintf("acc-%05d", rng.IntN(w.accounts)) }
	out := make([]projection.Event, 0, w.events)
	msgs := 0
	for len(out) < w.events {
		if a := rng.IntN(w.accounts); rng.IntN(100) < 3 {
			id := fmt.Sprintf("acc-%05d", a)
			if !registered[a] {
				registered[a] = true
				out = append(out, j.register(id, "name-"+id))
			} else {
				out = append(out, j.renameAccount(id, fmt.Sprintf("renamed-%d", len(out))))
			}
			continue
		}
		r := rooms[rng.IntN(len(rooms))]
		if r.deleted {
			continue
		}
		if !r.created {
			r.created = true
			creator := account()
			r.members = append(r.members, creator)
			out = append(out, j.createRoom(r.id, "room "+r.id, creator))
			continue
		}
		switch k := rng.IntN(1000); {
		case k < 700:
			msgs++
			id := fmt.Sprintf("msg-%07d", msgs)
			r.messages = append(r.messages, id)
			out = append(out, j.post(r.id, id, r.members[rng.IntN(len(r.members))], fmt.Sprintf("text %d", msgs)))
		case k < 800:
			a := account()
			r.members = append(r.members, a)
			if k < 720 {
				out = append(out, j.addMemberV1(r.id, a))
			} else {
				out = append(out, j.addMember(r.id, a, []schemas.Role{schemas.RoleMember, schemas.RoleAdmin}[k%2]))
			}
		case k < 830 && len(r.members) > 1:
			i := rng.IntN(len(r.members))
			out = append(out, j.removeMember(r.id, r.members[i]))
			r.members = append(r.members[:i], r.members[i+1:]...)
		case k < 900 && len(r.messages) > 0:
			out = append(out, j.edit(r.id, r.messages[rng.IntN(len(r.messages))], fmt.Sprintf("edited %d", len(out))))
		case k < 960 && len(r.messages) > 0:
			i := rng.IntN(len(r.messages))
			out = append(out, j.deleteMessage(r.id, r.messages[i]))
			r.messages = append(r.messages[:i], r.messages[i+1:]...)
		case k < 990:
			out = append(out, j.renameRoom(r.id, fmt.Sprintf("room %s renamed %d", r.id, len(out))))
		case k < 992:
			r.deleted = true
			out = append(out, j.deleteRoom(r.id))
		}
	}
	return out
}

// interleave returns events in a random delivery order that keeps each aggregate's events in seq order, as
// consumers of different partitions and topics see them.
func interleave(events []projection.Event, seed uint64) []projection.Event {
	rng := rand.New(rand.NewPCG(seed, 2))
	queues := map[string][]projection.Event{}
	tokens := make([]string, 0, len(events))
	for _, ev := range events {
		queues[ev.AggregateID] = append(queues[ev.AggregateID], ev)
		tokens = append(tokens, ev.AggregateID)
	}
	rng.Shuffle(len(tokens), func(i, k int) { tokens[i], tokens[k] = tokens[k], tokens[i] })
	out := make([]projection.Event, 0, len(events))
	for _, id := range tokens {
		out = append(out, queues[id][0])
		queues[id] = queues[id][1:]
	}
	return out
}
