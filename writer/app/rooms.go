package app

import (
	"context"
	"fmt"

	"github.com/cqrses-aws/pipeline/writer/domain"
)

// visible hides a room from callers who are not its members: to them it does not exist (404, not 403), so
// commands leak nothing about rooms they cannot see.
func visible(r *domain.Room, id domain.RoomID, by domain.AccountID) error {
	if !r.Exists() {
		return fmt.Errorf("room %s: %w", id, domain.ErrNotFound)
	}
	if _, ok := r.Member(by); !ok {
		return fmt.Errorf("room %s: %w", id, domain.ErrNotFound)
	}
	return nil
}

// onRoom runs decide on room id for the caller, after the visibility check; msg, when not nil, is where decide
// puts the id of the message the command creates.
func (a *App) onRoom(ctx context.Context, opts Options, id domain.RoomID, msg *domain.MessageID,
	decide func(*domain.Room) ([]domain.Event, error),
) (Result, error) {
	v, err := a.rooms.Update(ctx, id, write(opts, string(id), msg), func(r *domain.Room) ([]domain.Event, error) {
		if err := visible(r, id, opts.Meta.Actor); err != nil {
			return nil, err
		}
		return decide(r)
	})
	return Result{AggregateID: string(id), Version: v}, err
}

// CreateRoom creates a room named name with the caller as its admin; the caller must have registered.
func (a *App) CreateRoom(ctx context.Context, opts Options, name string) (Result, error) {
	by := opts.Meta.Actor
	if err := a.mustBeRegistered(ctx, by); err != nil {
		return Result{}, err
	}
	id := a.ids.NewRoomID()
	v, err := a.rooms.Update(ctx, id, write(opts, string(id), nil), func(r *domain.Room) ([]domain.Event, error) {
		return r.Create(id, name, by)
	})
	return Result{AggregateID: string(id), Version: v}, err
}

// RenameRoom renames a room; only its admins may.
func (a *App) RenameRoom(ctx context.Context, opts Options, id domain.RoomID, name string) (Result, error) {
	return a.onRoom(ctx, opts, id, nil, func(r *domain.Room) ([]domain.Event, error) {
		return r.Rename(name, opts.Meta.Actor)
	})
}

// AddMember adds a registered account to a room with role; only its admins may.
func (a *App) AddMember(ctx context.Context, opts Options, id domain.RoomID, account domain.AccountID, role domain.Role) (Result, error) {
	ok, err := a.accounts.Exists(ctx, account)
	if err != nil {
		return Result{}, err
	}
	if !ok {
		return Result{}, fmt.Errorf("account %s: %w", account, domain.ErrNotFound)
	}
	return a.onRoom(ctx, opts, id, nil, func(r *domain.Room) ([]domain.Event, error) {
		return r.AddMember(account, role, opts.Meta.Actor)
	})
}

// RemoveMember removes an account from a room; only its admins may.
func (a *App) RemoveMember(ctx context.Context, opts Options, id domain.RoomID, account domain.AccountID) (Result, error) {
	return a.onRoom(ctx, opts, id, nil, func(r *domain.Room) ([]domain.Event, error) {
		return r.RemoveMember(account, opts.Meta.Actor)
	})
}

// DeleteRoom deletes a room; only its admins may. Afterwards it only answers reads.
func (a *App) DeleteRoom(ctx context.Context, opts Options, id domain.RoomID) (Result, error) {
	return a.onRoom(ctx, opts, id, nil, func(r *domain.Room) ([]domain.Event, error) {
		return r.Delete(opts.Meta.Actor)
	})
}

func (a *App) mustBeRegistered(ctx context.Context, id domain.AccountID) error {
	ok, err := a.accounts.Exists(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("account %s: %w", id, ErrNotRegistered)
	}
	return nil
}
