package domain

import "fmt"

// Account is the account aggregate: a registered name. The zero value is an account that is not registered;
// NewAccount gives it its id. Commands only decide: they return events and never change the account, which
// changes only through Apply. An Account is not safe for concurrent use.
type Account struct {
	id         AccountID
	name       string
	registered bool
	version    int64
}

// NewAccount returns an unregistered account that knows its id, which its events do not carry.
func NewAccount(id AccountID) *Account { return &Account{id: id} }

// ID returns the account's id: the one given to NewAccount or kept in its snapshot, or "" when unknown.
func (a *Account) ID() AccountID { return a.id }

// Name returns the account's current name, or "" when it is not registered.
func (a *Account) Name() string { return a.name }

// Registered reports whether the account has been registered.
func (a *Account) Registered() bool { return a.registered }

// Version returns the seq of the last event applied to the account, 0 before the first.
func (a *Account) Version() int64 { return a.version }

// Register decides to register the account as id under name. It returns a *ValidationError (ErrInvalid) for an
// invalid name or an empty id, or an id other than the account's own, and ErrAlreadyExists (wrapped) when the
// account is registered already.
func (a *Account) Register(id AccountID, name string) ([]Event, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	switch {
	case id == "":
		return nil, invalid("account_id", "must not be empty")
	case a.id != "" && id != a.id:
		return nil, invalid("account_id", "does not match the account")
	case a.registered:
		return nil, fmt.Errorf("register account %s: %w", id, ErrAlreadyExists)
	}
	return []Event{AccountRegistered{Name: name}}, nil
}

// Rename decides to rename the account to name. It returns a *ValidationError (ErrInvalid) for an invalid name
// and ErrNotFound (wrapped) when the account is not registered.
func (a *Account) Rename(name string) ([]Event, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if !a.registered {
		return nil, fmt.Errorf("rename account %s: %w", a.id, ErrNotFound)
	}
	return []Event{AccountRenamed{Name: name}}, nil
}

// Apply folds one event into the account and advances its version by one. It returns an error wrapping
// ErrUnknownEvent for an event that is not an account's, or ErrInvalidEvent for one that lacks a field or does
// not fit the state (registered twice, renamed before registered); the account is then unchanged.
func (a *Account) Apply(ev Event) error {
	if err := a.apply(ev); err != nil {
		return fmt.Errorf("account %s at version %d: apply %T: %w", a.id, a.version, ev, err)
	}
	a.version++
	return nil
}

// ApplyAll applies events in order and stops at the first error, which it returns; the events before it stay
// applied.
func (a *Account) ApplyAll(events []Event) error {
	for _, ev := range events {
		if err := a.Apply(ev); err != nil {
			return err
		}
	}
	return nil
}

func (a *Account) apply(ev Event) error {
	switch e := ev.(type) {
	case AccountRegistered:
		if err := checkEvent(e); err != nil {
			return err
		}
		if a.registered {
			return fmt.Errorf("%w: the account is registered already", ErrInvalidEvent)
		}
		a.registered, a.name = true, e.Name
	case AccountRenamed:
		if err := checkEvent(e); err != nil {
			return err
		}
		if !a.registered {
			return fmt.Errorf("%w: the account is not registered", ErrInvalidEvent)
		}
		a.name = e.Name
	default:
		return ErrUnknownEvent
	}
	return nil
}
