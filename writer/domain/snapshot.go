package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The versions of the snapshot encodings below; a change that old code cannot read bumps one, and a snapshot of
// a format not listed is refused (the caller then replays the events).
const (
	accountSnapshotFormat = 1
	// roomSnapshotFormat 2 keeps nothing per message; format 1 also held every message's author, which is
	// read and ignored, so rooms snapshotted before keep loading from their snapshots.
	roomSnapshotFormat       = 2
	roomSnapshotFormatLegacy = 1
)

type accountSnapshot struct {
	Format     int       `json:"format"`
	Version    int64     `json:"version"`
	ID         AccountID `json:"id,omitempty"`
	Registered bool      `json:"registered"`
	Name       string    `json:"name,omitempty"`
}

type roomSnapshot struct {
	Format  int                `json:"format"`
	Version int64              `json:"version"`
	ID      RoomID             `json:"id,omitempty"`
	Created bool               `json:"created"`
	Deleted bool               `json:"deleted,omitempty"`
	Name    string             `json:"name,omitempty"`
	Members map[AccountID]Role `json:"members,omitempty"`
	// LegacyMessages is format 1's per-message state, read only to be ignored.
	LegacyMessages json.RawMessage `json:"messages,omitempty"`
}

// MarshalSnapshot encodes the account's whole state, its version included, as JSON; it fails only if encoding
// fails.
func (a *Account) MarshalSnapshot() ([]byte, error) {
	b, err := json.Marshal(accountSnapshot{
		Format: accountSnapshotFormat, Version: a.version, ID: a.id, Registered: a.registered, Name: a.name,
	})
	if err != nil {
		return nil, fmt.Errorf("snapshot account %s: %w", a.id, err)
	}
	return b, nil
}

// UnmarshalAccountSnapshot restores an account from MarshalSnapshot's output. It returns an error wrapping
// ErrInvalidSnapshot when data is malformed, of another format, or inconsistent.
func UnmarshalAccountSnapshot(data []byte) (*Account, error) {
	var s accountSnapshot
	if err := decodeStrict(data, &s); err != nil {
		return nil, err
	}
	var problems []error
	if s.Version < 0 || s.Registered != (s.Version > 0) {
		problems = append(problems, fmt.Errorf("version %d does not match registered %t", s.Version, s.Registered))
	}
	if s.Registered == (s.Name == "") {
		problems = append(problems, errors.New("a registered account has a name, an unregistered one none"))
	}
	if err := errors.Join(problems...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSnapshot, err)
	}
	return &Account{id: s.ID, name: s.Name, registered: s.Registered, version: s.Version}, nil
}

// MarshalSnapshot encodes the room's whole state, its version included, as JSON; it fails only if encoding
// fails.
func (r *Room) MarshalSnapshot() ([]byte, error) {
	s := roomSnapshot{
		Format: roomSnapshotFormat, Version: r.version, ID: r.id, Created: r.created, Deleted: r.deleted, Name: r.name,
		Members: r.members,
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("snapshot room %s: %w", r.id, err)
	}
	return b, nil
}

// UnmarshalRoomSnapshot restores a room from MarshalSnapshot's output. It returns an error wrapping
// ErrInvalidSnapshot when data is malformed, of another format, or inconsistent.
func UnmarshalRoomSnapshot(data []byte) (*Room, error) {
	var s roomSnapshot
	if err := decodeStrict(data, &s); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSnapshot, err)
	}
	r := &Room{id: s.ID, name: s.Name, created: s.Created, deleted: s.Deleted, version: s.Version}
	if s.Created {
		r.members = make(map[AccountID]Role, len(s.Members))
		for id, role := range s.Members {
			r.members[id] = role
		}
	}
	return r, nil
}

// check reports a snapshot that no sequence of events could have produced in its broad shape.
func (s roomSnapshot) check() error {
	var problems []error
	if s.Version < 0 || s.Created != (s.Version > 0) {
		problems = append(problems, fmt.Errorf("version %d does not match created %t", s.Version, s.Created))
	}
	if s.Format == roomSnapshotFormat && len(s.LegacyMessages) > 0 {
		problems = append(problems, errors.New("messages in a snapshot of the format without them"))
	}
	if !s.Created && (s.Deleted || s.Name != "" || len(s.Members) > 0) {
		problems = append(problems, errors.New("a room not created has state"))
	}
	if s.Created && s.Name == "" {
		problems = append(problems, errors.New("a created room has no name"))
	}
	for id, role := range s.Members {
		if id == "" || !role.valid() {
			problems = append(problems, fmt.Errorf("member %q has role %q", id, role))
		}
	}
	return errors.Join(problems...)
}

// decodeStrict decodes one JSON object of a snapshot format v reads into v, refusing unknown fields.
func decodeStrict[S interface{ formatOK() error }](data []byte, v S) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSnapshot, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: data after the snapshot", ErrInvalidSnapshot)
	}
	if err := v.formatOK(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSnapshot, err)
	}
	return nil
}

func (s *accountSnapshot) formatOK() error {
	if s.Format != accountSnapshotFormat {
		return fmt.Errorf("format %d, want %d", s.Format, accountSnapshotFormat)
	}
	return nil
}

func (s *roomSnapshot) formatOK() error {
	if s.Format != roomSnapshotFormat && s.Format != roomSnapshotFormatLegacy {
		return fmt.Errorf("format %d, want %d or %d", s.Format, roomSnapshotFormat, roomSnapshotFormatLegacy)
	}
	return nil
}
