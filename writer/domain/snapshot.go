package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// snapshotFormat is the version of the snapshot encodings below; a change that old code cannot read bumps it,
// and a snapshot of another format is refused (the caller then replays the events).
const snapshotFormat = 1

type accountSnapshot struct {
	Format     int       `json:"format"`
	Version    int64     `json:"version"`
	ID         AccountID `json:"id,omitempty"`
	Registered bool      `json:"registered"`
	Name       string    `json:"name,omitempty"`
}

type roomSnapshot struct {
	Format   int                           `json:"format"`
	Version  int64                         `json:"version"`
	ID       RoomID                        `json:"id,omitempty"`
	Created  bool                          `json:"created"`
	Deleted  bool                          `json:"deleted,omitempty"`
	Name     string                        `json:"name,omitempty"`
	Members  map[AccountID]Role            `json:"members,omitempty"`
	Messages map[MessageID]messageSnapshot `json:"messages,omitempty"`
}

type messageSnapshot struct {
	Author  AccountID `json:"author"`
	Deleted bool      `json:"deleted,omitempty"`
}

// MarshalSnapshot encodes the account's whole state, its version included, as JSON; it fails only if encoding
// fails.
func (a *Account) MarshalSnapshot() ([]byte, error) {
	b, err := json.Marshal(accountSnapshot{
		Format: snapshotFormat, Version: a.version, ID: a.id, Registered: a.registered, Name: a.name,
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
		Format: snapshotFormat, Version: r.version, ID: r.id, Created: r.created, Deleted: r.deleted, Name: r.name,
		Members: r.members,
	}
	if len(r.messages) > 0 {
		s.Messages = make(map[MessageID]messageSnapshot, len(r.messages))
		for id, m := range r.messages {
			s.Messages[id] = messageSnapshot{Author: m.author, Deleted: m.deleted}
		}
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
		r.messages = make(map[MessageID]message, len(s.Messages))
		for id, m := range s.Messages {
			r.messages[id] = message{author: m.Author, deleted: m.Deleted}
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
	if !s.Created && (s.Deleted || s.Name != "" || len(s.Members) > 0 || len(s.Messages) > 0) {
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
	for id, m := range s.Messages {
		if id == "" || m.Author == "" {
			problems = append(problems, fmt.Errorf("message %q has author %q", id, m.Author))
		}
	}
	return errors.Join(problems...)
}

// decodeStrict decodes one JSON object of the current snapshot format into v, refusing unknown fields.
func decodeStrict[S interface{ format() int }](data []byte, v S) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSnapshot, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: data after the snapshot", ErrInvalidSnapshot)
	}
	if f := v.format(); f != snapshotFormat {
		return fmt.Errorf("%w: format %d, want %d", ErrInvalidSnapshot, f, snapshotFormat)
	}
	return nil
}

func (s *accountSnapshot) format() int { return s.Format }
func (s *roomSnapshot) format() int    { return s.Format }
