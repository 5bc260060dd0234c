package eventgen_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/cqrses-aws/pipeline/projectors/readmodel"
	"github.com/cqrses-aws/pipeline/schemas"
	"github.com/cqrses-aws/pipeline/writer/domain"
)

// checker checks a history event by event against the envelope contract and the domain's rules, folding it
// into the reference model to know the state each event meets.
type checker struct {
	model    *readmodel.Model
	seqs     map[string]int64 // aggregate type/id → last seq
	eventIDs map[string]bool
	msgIDs   map[string]bool // every message id ever posted
	last     time.Time
	counts   map[string]int // by type, and "MemberAdded v1"
}

func newChecker() *checker {
	return &checker{
		model: readmodel.New(), seqs: map[string]int64{}, eventIDs: map[string]bool{}, msgIDs: map[string]bool{},
		counts: map[string]int{},
	}
}

// check returns why env breaks a rule, or nil; it then folds env into the model.
func (c *checker) check(env schemas.Envelope) error {
	if err := c.checkEnvelope(env); err != nil {
		return err
	}
	payload, err := schemas.Decode(env)
	if err != nil {
		return err
	}
	if err := c.checkRules(env, payload); err != nil {
		return err
	}
	c.counts[env.Type]++
	if env.Type == schemas.TypeMemberAdded && env.Version == 1 {
		c.counts["MemberAdded v1"]++
	}
	return c.model.Apply(env)
}

func (c *checker) checkEnvelope(env schemas.Envelope) error {
	if err := schemas.Validate(env); err != nil {
		return err
	}
	at := env.OccurredAt
	switch {
	case at.Location() != time.UTC:
		return fmt.Errorf("occurred_at %v is not in UTC", at)
	case !at.Equal(at.Truncate(time.Millisecond)):
		return fmt.Errorf("occurred_at %v is not whole milliseconds", at)
	case !at.After(c.last):
		return fmt.Errorf("occurred_at %v is not after the previous event's %v", at, c.last)
	case env.CausationID != env.CommandID:
		return fmt.Errorf("causation_id %s is not the command id %s", env.CausationID, env.CommandID)
	case c.eventIDs[env.ID]:
		return fmt.Errorf("event id %s used twice", env.ID)
	}
	c.last, c.eventIDs[env.ID] = at, true
	key := env.AggregateType + "/" + env.AggregateID
	if want := c.seqs[key] + 1; env.Seq != want {
		return fmt.Errorf("seq %d, want %d", env.Seq, want)
	}
	c.seqs[key] = env.Seq
	return nil
}

var errRule = errors.New("breaks a domain rule")

func (c *checker) checkRules(env schemas.Envelope, payload any) error {
	id := env.AggregateID
	room, live := c.model.Rooms[id]
	switch p := payload.(type) {
	case *schemas.AccountRegisteredV1:
		return domain.ValidateName(p.Name)
	case *schemas.AccountRenamedV1:
		if err := domain.ValidateName(p.Name); err != nil {
			return err
		}
		return c.registered(id)
	case *schemas.RoomCreatedV1:
		if env.Seq != 1 {
			return fmt.Errorf("%w: RoomCreated at seq %d", errRule, env.Seq)
		}
		if err := domain.ValidateName(p.Name); err != nil {
			return err
		}
		return c.registered(p.CreatedBy)
	}
	if !live {
		return fmt.Errorf("%w: event of room %s, which is not live", errRule, id)
	}
	switch p := payload.(type) {
	case *schemas.RoomRenamedV1:
		if err := domain.ValidateName(p.Name); err != nil {
			return err
		}
		return admin(room, p.RenamedBy)
	case *schemas.MemberAddedV2:
		if _, ok := room.Members[p.AccountID]; ok {
			return fmt.Errorf("%w: %s added twice", errRule, p.AccountID)
		}
		if err := c.registered(p.AccountID); err != nil {
			return err
		}
		return admin(room, p.AddedBy)
	case *schemas.MemberRemovedV1:
		target, ok := room.Members[p.AccountID]
		if !ok {
			return fmt.Errorf("%w: %s removed but not a member", errRule, p.AccountID)
		}
		if target.Role == schemas.RoleAdmin && admins(room) == 1 {
			return fmt.Errorf("%w: the last admin %s removed", errRule, p.AccountID)
		}
		return admin(room, p.RemovedBy)
	case *schemas.MessagePostedV1:
		if c.msgIDs[p.MessageID] {
			return fmt.Errorf("%w: message id %s reused", errRule, p.MessageID)
		}
		c.msgIDs[p.MessageID] = true
		if err := domain.ValidateText(p.Text); err != nil {
			return err
		}
		return member(room, p.AuthorID)
	case *schemas.MessageEditedV1:
		msg, err := c.liveMessage(id, p.MessageID)
		if err != nil {
			return err
		}
		if p.EditedBy != msg.SenderID {
			return fmt.Errorf("%w: %s edited %s's message", errRule, p.EditedBy, msg.SenderID)
		}
		if err := domain.ValidateText(p.Text); err != nil {
			return err
		}
		return member(room, p.EditedBy)
	case *schemas.MessageDeletedV1:
		msg, err := c.liveMessage(id, p.MessageID)
		if err != nil {
			return err
		}
		if p.DeletedBy == msg.SenderID {
			return member(room, p.DeletedBy)
		}
		return admin(room, p.DeletedBy)
	case *schemas.RoomDeletedV1:
		return admin(room, p.DeletedBy)
	}
	return fmt.Errorf("unexpected payload %T", payload)
}

func (c *checker) registered(account string) error {
	if _, ok := c.model.Accounts[account]; !ok {
		return fmt.Errorf("%w: account %s acts before it registers", errRule, account)
	}
	return nil
}

func (c *checker) liveMessage(roomID, msgID string) (readmodel.Message, error) {
	msg, ok := c.model.Messages[msgID]
	if !ok || msg.RoomID != roomID {
		return msg, fmt.Errorf("%w: message %s is not live in room %s", errRule, msgID, roomID)
	}
	return msg, nil
}

func member(room readmodel.Room, account string) error {
	if _, ok := room.Members[account]; !ok {
		return fmt.Errorf("%w: %s acts in room %s without being a member", errRule, account, room.ID)
	}
	return nil
}

func admin(room readmodel.Room, account string) error {
	if m, ok := room.Members[account]; !ok || m.Role != schemas.RoleAdmin {
		return fmt.Errorf("%w: %s acts as an admin of room %s without being one", errRule, account, room.ID)
	}
	return nil
}

func admins(room readmodel.Room) int {
	n := 0
	for _, m := range room.Members {
		if m.Role == schemas.RoleAdmin {
			n++
		}
	}
	return n
}
