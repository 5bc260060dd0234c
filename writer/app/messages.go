package app

import (
	"context"

	"github.com/cqrses-aws/pipeline/writer/domain"
)

// PostMessage posts text to a room as the caller, who must be a member; the result carries the new message id,
// which names the seq of its event (so it is chosen on each attempt, once the room's version is known).
func (a *App) PostMessage(ctx context.Context, opts Options, id domain.RoomID, text string) (Result, error) {
	var msg domain.MessageID
	res, err := a.onRoom(ctx, opts, id, &msg, func(r *domain.Room) ([]domain.Event, error) {
		msg = a.ids.NewMessageID(r.Version() + 1)
		return r.PostMessage(msg, text, opts.Meta.Actor)
	})
	res.MessageID = msg
	return res, err
}

// EditMessage replaces a message's text; only its author may.
func (a *App) EditMessage(ctx context.Context, opts Options, id domain.RoomID, msg domain.MessageID, text string) (Result, error) {
	return a.onRoom(ctx, opts, id, nil, func(r *domain.Room) ([]domain.Event, error) {
		m, err := a.message(ctx, id, msg)
		if err != nil {
			return nil, err
		}
		return r.EditMessage(m, text, opts.Meta.Actor)
	})
}

// DeleteMessage deletes a message; its author or a room admin may.
func (a *App) DeleteMessage(ctx context.Context, opts Options, id domain.RoomID, msg domain.MessageID) (Result, error) {
	return a.onRoom(ctx, opts, id, nil, func(r *domain.Room) ([]domain.Event, error) {
		m, err := a.message(ctx, id, msg)
		if err != nil {
			return nil, err
		}
		return r.DeleteMessage(m, opts.Meta.Actor)
	})
}

// message reads msg as the writer keeps it, or a Message with only its id when there is none. It runs inside
// the room's decision, after the visibility check and on every attempt, so a retried decision reads it again.
func (a *App) message(ctx context.Context, room domain.RoomID, msg domain.MessageID) (domain.Message, error) {
	if msg == "" {
		return domain.Message{}, nil
	}
	m, found, err := a.messages.Message(ctx, room, msg)
	if err != nil {
		return domain.Message{}, err
	}
	if !found {
		return domain.Message{ID: msg}, nil
	}
	return m, nil
}
