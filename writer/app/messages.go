package app

import (
	"context"

	"github.com/cqrses-aws/pipeline/writer/domain"
)

// PostMessage posts text to a room as the caller, who must be a member; the result carries the new message id.
func (a *App) PostMessage(ctx context.Context, opts Options, id domain.RoomID, text string) (Result, error) {
	msg := a.ids.NewMessageID()
	return a.onRoom(ctx, opts, id, msg, func(r *domain.Room) ([]domain.Event, error) {
		return r.PostMessage(msg, text, opts.Meta.Actor)
	})
}

// EditMessage replaces a message's text; only its author may.
func (a *App) EditMessage(ctx context.Context, opts Options, id domain.RoomID, msg domain.MessageID, text string) (Result, error) {
	return a.onRoom(ctx, opts, id, "", func(r *domain.Room) ([]domain.Event, error) {
		return r.EditMessage(msg, text, opts.Meta.Actor)
	})
}

// DeleteMessage deletes a message; its author or a room admin may.
func (a *App) DeleteMessage(ctx context.Context, opts Options, id domain.RoomID, msg domain.MessageID) (Result, error) {
	return a.onRoom(ctx, opts, id, "", func(r *domain.Room) ([]domain.Event, error) {
		return r.DeleteMessage(msg, opts.Meta.Actor)
	})
}
