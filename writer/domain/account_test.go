package domain_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/writer/domain"
)

func TestAccountCommands(t *testing.T) {
	t.Parallel()
	fresh := func(testing.TB) *domain.Account { return &domain.Account{} }
	cases := []struct {
		name    string
		account func(testing.TB) *domain.Account
		cmd     func(*domain.Account) ([]domain.Event, error)
		events  []domain.Event
		err     error
		field   string
	}{
		{"register", fresh, func(a *domain.Account) ([]domain.Event, error) { return a.Register("alice", "Alice") },
			[]domain.Event{domain.AccountRegistered{Name: "Alice"}}, nil, ""},
		{"register with its own id", func(testing.TB) *domain.Account { return domain.NewAccount("alice") },
			func(a *domain.Account) ([]domain.Event, error) { return a.Register("alice", "Alice") },
			[]domain.Event{domain.AccountRegistered{Name: "Alice"}}, nil, ""},
		{"register with another id", func(testing.TB) *domain.Account { return domain.NewAccount("alice") },
			func(a *domain.Account) ([]domain.Event, error) { return a.Register("bob", "Bob") }, nil, domain.ErrInvalid, "account_id"},
		{"register without id", fresh, func(a *domain.Account) ([]domain.Event, error) { return a.Register("", "Alice") },
			nil, domain.ErrInvalid, "account_id"},
		{"register with empty name", fresh, func(a *domain.Account) ([]domain.Event, error) { return a.Register("alice", "") },
			nil, domain.ErrInvalid, "name"},
		{"register with 81 characters", fresh,
			func(a *domain.Account) ([]domain.Event, error) { return a.Register("alice", strings.Repeat("é", 81)) },
			nil, domain.ErrInvalid, "name"},
		{"register twice", registered, func(a *domain.Account) ([]domain.Event, error) { return a.Register("alice", "Alice") },
			nil, domain.ErrAlreadyExists, ""},
		{"validation before state", registered, func(a *domain.Account) ([]domain.Event, error) { return a.Register("alice", "A\nB") },
			nil, domain.ErrInvalid, "name"},
		{"rename", registered, func(a *domain.Account) ([]domain.Event, error) { return a.Rename("Alice L.") },
			[]domain.Event{domain.AccountRenamed{Name: "Alice L."}}, nil, ""},
		{"rename unregistered", fresh, func(a *domain.Account) ([]domain.Event, error) { return a.Rename("Alice") },
			nil, domain.ErrNotFound, ""},
		{"rename to whitespace", registered, func(a *domain.Account) ([]domain.Event, error) { return a.Rename(" \u3000 ") },
			nil, domain.ErrInvalid, "name"},
		{"rename with a tab", registered, func(a *domain.Account) ([]domain.Event, error) { return a.Rename("a\tb") },
			nil, domain.ErrInvalid, "name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := tc.account(t)
			before := snapshotOf(t, a)
			events, err := tc.cmd(a)
			checkDecision(t, events, err, tc.events, tc.err, tc.field)
			unchanged(t, before, a)
			if err == nil {
				if err := a.ApplyAll(events); err != nil {
					t.Errorf("decided events do not apply: %v", err)
				}
			}
		})
	}
}

func TestAccountApply(t *testing.T) {
	t.Parallel()
	a := domain.NewAccount("alice")
	if a.Registered() || a.Version() != 0 || a.ID() != "alice" {
		t.Fatalf("new account: registered %t, version %d, id %q", a.Registered(), a.Version(), a.ID())
	}
	err := a.ApplyAll([]domain.Event{domain.AccountRegistered{Name: "Alice"}, domain.AccountRenamed{Name: "Al"}})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Registered() || a.Name() != "Al" || a.Version() != 2 {
		t.Errorf("after fold: registered %t, name %q, version %d", a.Registered(), a.Name(), a.Version())
	}
}

func TestAccountApplyErrors(t *testing.T) {
	t.Parallel()
	fresh := func(testing.TB) *domain.Account { return domain.NewAccount("alice") }
	cases := []struct {
		name    string
		account func(testing.TB) *domain.Account
		event   domain.Event
		want    error
	}{
		{"registered twice", registered, domain.AccountRegistered{Name: "Again"}, domain.ErrInvalidEvent},
		{"renamed before registered", fresh, domain.AccountRenamed{Name: "Al"}, domain.ErrInvalidEvent},
		{"empty name", fresh, domain.AccountRegistered{}, domain.ErrInvalidEvent},
		{"room event", registered, domain.RoomDeleted{DeletedBy: "alice"}, domain.ErrUnknownEvent},
		{"pointer event", fresh, &domain.AccountRegistered{Name: "Alice"}, domain.ErrUnknownEvent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := tc.account(t)
			before := snapshotOf(t, a)
			if err := a.Apply(tc.event); !errors.Is(err, tc.want) {
				t.Errorf("Apply = %v, want %v", err, tc.want)
			}
			unchanged(t, before, a)
		})
	}
}

func TestAccountApplyAllStopsAtFirstError(t *testing.T) {
	t.Parallel()
	a := domain.NewAccount("alice")
	err := a.ApplyAll([]domain.Event{
		domain.AccountRegistered{Name: "Alice"},
		domain.AccountRegistered{Name: "Twice"},
		domain.AccountRenamed{Name: "Never"},
	})
	if !errors.Is(err, domain.ErrInvalidEvent) {
		t.Fatalf("ApplyAll = %v, want ErrInvalidEvent", err)
	}
	if a.Version() != 1 || a.Name() != "Alice" {
		t.Errorf("after ApplyAll: version %d, name %q; want 1, Alice", a.Version(), a.Name())
	}
}
