package app

import (
	"context"

	"github.com/cqrses-aws/pipeline/writer/domain"
)

// RegisterAccount registers the caller's own account (its id is the caller's token subject) under name.
func (a *App) RegisterAccount(ctx context.Context, opts Options, name string) (Result, error) {
	id := opts.Meta.Actor
	v, err := a.accounts.Update(ctx, id, write(opts, string(id), nil), func(acc *domain.Account) ([]domain.Event, error) {
		return acc.Register(id, name)
	})
	return Result{AggregateID: string(id), Version: v}, err
}

// RenameAccount renames the caller's own account.
func (a *App) RenameAccount(ctx context.Context, opts Options, name string) (Result, error) {
	id := opts.Meta.Actor
	v, err := a.accounts.Update(ctx, id, write(opts, string(id), nil), func(acc *domain.Account) ([]domain.Event, error) {
		return acc.Rename(name)
	})
	return Result{AggregateID: string(id), Version: v}, err
}
