package search

import (
	"context"
	"errors"
	"fmt"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/schemas"
)

// errPayload is Apply's answer to an event whose payload is not the current version's Go type.
var errPayload = errors.New("unexpected payload type")

// errSeqLimit is Apply's answer to an event whose seq a message version cannot hold (see senderBits).
var errSeqLimit = errors.New("seq beyond the limit of a message version")

// Apply folds events into the batch: one mget first for what the events need and the batch does not know
// (the aggregates' state documents, the authors' names, the stored documents of edited messages), then no
// request until Commit. An event whose seq is not above the stored state's seq, or the last one this batch
// applied to its aggregate, is skipped: it was applied already. An event that can never apply (a type the fold
// does not handle, a seq beyond what a message version holds) is answered with a *projection.PermanentError.
func (x *tx) Apply(ctx context.Context, events []projection.Event) error {
	if x.done {
		return errTxDone
	}
	if err := x.prefetch(ctx, events); err != nil {
		return err
	}
	for i := range events {
		// fold makes no request: what it refuses, it refuses whenever it is tried.
		if err := x.fold(&events[i]); err != nil {
			return projection.Permanent(events[i], fmt.Errorf("apply %s: %w", events[i].Type, err))
		}
	}
	return nil
}

// prefetch loads with one mget what folding events needs.
func (x *tx) prefetch(ctx context.Context, events []projection.Event) error {
	var aggIDs, msgIDs []string
	posted := map[string]struct{}{}
	wantAgg := func(id string) {
		if _, ok := x.aggs[id]; !ok {
			aggIDs = append(aggIDs, id)
		}
	}
	for i := range events {
		e := &events[i]
		wantAgg(e.AggregateID)
		switch p := e.Payload.(type) {
		case *schemas.MessagePostedV1:
			wantAgg(p.AuthorID)
			posted[p.MessageID] = struct{}{}
		case *schemas.MessageEditedV1:
			_, inBatch := x.msgs[p.MessageID]
			_, postedHere := posted[p.MessageID]
			if !inBatch && !postedHere && !x.ahead.editCovered(p.MessageID, e.AggregateID, e.Seq) {
				msgIDs = append(msgIDs, p.MessageID)
			}
		}
	}
	return x.load(ctx, aggIDs, msgIDs)
}

// fold applies one event to the batch's in-memory state.
func (x *tx) fold(e *projection.Event) error {
	a := x.aggs[e.AggregateID]
	if e.Seq <= a.batchSeq || e.Seq <= a.state.Seq {
		return nil
	}
	if limit := seqLimit(e.AggregateType); e.Seq > limit {
		return fmt.Errorf("%w: seq %d of a %s is above %d", errSeqLimit, e.Seq, e.AggregateType, limit)
	}
	a.batchSeq = e.Seq
	a.id, a.typ = e.AggregateID, e.AggregateType
	switch p := e.Payload.(type) {
	case *schemas.AccountRegisteredV1:
		x.renameAccount(a, e.Seq, p.Name)
	case *schemas.AccountRenamedV1:
		x.renameAccount(a, e.Seq, p.Name)
	case *schemas.RoomCreatedV1:
		a.name, a.nameSeq = p.Name, e.Seq
	case *schemas.RoomRenamedV1:
		a.name, a.nameSeq = p.Name, e.Seq
		if !x.ahead.renameCovered(a.id, e.Seq) {
			x.renamedRooms[a.id] = struct{}{}
		}
	case *schemas.MemberAddedV2, *schemas.MemberRemovedV1:
		// Membership lives in the Postgres views; the query API filters by room_id with it.
	case *schemas.MessagePostedV1:
		if x.ahead.gone(p.MessageID, a.id) {
			return nil
		}
		m := x.touch(p.MessageID, a.id)
		*m = message{id: p.MessageID, roomID: a.id, senderID: p.AuthorID, text: p.Text, postedAt: e.OccurredAt.UTC(), seq: e.Seq}
		if text, editedAt, ok := x.ahead.finalText(p.MessageID, e.Seq); ok {
			m.text, m.editedAt = text, editedAt
		}
	case *schemas.MessageEditedV1:
		if x.ahead.editCovered(p.MessageID, a.id, e.Seq) {
			return nil
		}
		m, ok := x.msgs[p.MessageID]
		if !ok {
			stored := x.stored[p.MessageID]
			if stored == nil {
				// No document to edit: the message was deleted (or never posted). An edit never revives one.
				return nil
			}
			m = x.touch(p.MessageID, a.id)
			*m = *stored
		}
		if !m.deleted {
			m.text, m.editedAt = p.Text, e.OccurredAt.UTC()
		}
	case *schemas.MessageDeletedV1:
		if x.ahead.gone(p.MessageID, a.id) {
			return nil // never written
		}
		x.touch(p.MessageID, a.id).deleted = true
	case *schemas.RoomDeletedV1:
		a.deleted = true
		if !x.ahead.roomDeleteCovered(a.id, e.Seq) {
			x.deletedRooms[a.id] = struct{}{}
		}
		for _, m := range x.order {
			if m.roomID == a.id {
				m.deleted = true
			}
		}
	default:
		return fmt.Errorf("%w %T", errPayload, e.Payload)
	}
	return nil
}

// renameAccount sets an account's name from its event at seq. A stored name may be newer than the stored state
// (a crash after step 1 of commit): an older name is then ignored, and the same one written again, with the
// rewrite of its messages that the crash may have cut short. A name before a build's horizon is in the messages
// already (see lookahead.senderName): it is only kept in the state document.
func (x *tx) renameAccount(a *aggregate, seq int64, name string) {
	if seq < a.nameSeq {
		return
	}
	a.name, a.nameSeq = name, seq
	if !x.ahead.nameCovered(a.id, seq) {
		x.renamedAccounts[a.id] = struct{}{}
	}
}

// seqLimit returns the largest seq of an aggregate of typ that a message version holds.
func seqLimit(typ string) int64 {
	if typ == schemas.AggregateTypeAccount {
		return maxAccountSeq
	}
	return maxRoomSeq
}

// touch returns the batch's entry of message id in room, adding an empty one.
func (x *tx) touch(id, roomID string) *message {
	if m, ok := x.msgs[id]; ok {
		return m
	}
	m := &message{id: id, roomID: roomID}
	x.msgs[id] = m
	x.order = append(x.order, m)
	return m
}
