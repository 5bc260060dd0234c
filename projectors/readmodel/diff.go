package readmodel

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// maxDiffLines bounds Diff's answer, so that a broken projection does not flood a test log.
const maxDiffLines = 20

// Diff returns the differences between m and other, one human-readable line each ("this" is m), sorted by
// accounts, rooms, messages and then id: at most 20 lines, the last saying how many more there are when they do
// not fit. It is empty when the models are equal; times are compared with Equal after truncation to the
// microsecond (what Postgres keeps). A nil model is an empty one.
func (m *Model) Diff(other *Model) []string {
	if m == nil {
		m = &Model{}
	}
	if other == nil {
		other = &Model{}
	}
	d := &differ{}
	for _, id := range unionKeys(m.Accounts, other.Accounts) {
		a, aok := m.Accounts[id]
		b, bok := other.Accounts[id]
		if d.presence("account "+id, aok, bok) {
			d.field("account "+id, "Name", a.Name, b.Name)
			d.field("account "+id, "Version", a.Version, b.Version)
		}
	}
	for _, id := range unionKeys(m.Rooms, other.Rooms) {
		a, aok := m.Rooms[id]
		b, bok := other.Rooms[id]
		if d.presence("room "+id, aok, bok) {
			d.room(a, b)
		}
	}
	for _, id := range unionKeys(m.Messages, other.Messages) {
		a, aok := m.Messages[id]
		b, bok := other.Messages[id]
		if d.presence("message "+id, aok, bok) {
			d.message(a, b)
		}
	}
	return d.result()
}

// differ collects the lines of a Diff, keeping the first ones and counting the rest.
type differ struct {
	lines []string
	more  int
}

func (d *differ) add(format string, args ...any) {
	if len(d.lines) < maxDiffLines {
		d.lines = append(d.lines, fmt.Sprintf(format, args...))
		return
	}
	d.more++
}

func (d *differ) result() []string {
	if d.more > 0 {
		d.lines[maxDiffLines-1] = fmt.Sprintf("… and %d more differences", d.more+1)
	}
	return d.lines
}

// presence reports a row that only one model has, and whether both have it.
func (d *differ) presence(what string, inThis, inOther bool) bool {
	switch {
	case inThis && !inOther:
		d.add("%s: only in this model", what)
	case !inThis && inOther:
		d.add("%s: only in the other model", what)
	}
	return inThis && inOther
}

func (d *differ) field(what, name string, a, b any) {
	if a == b {
		return
	}
	d.add("%s: %s = %s, other has %s", what, name, show(a), show(b))
}

func (d *differ) time(what, name string, a, b time.Time) {
	if a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond)) {
		return
	}
	d.add("%s: %s = %s, other has %s", what, name, showTime(a), showTime(b))
}

func (d *differ) room(a, b Room) {
	what := "room " + a.ID
	d.field(what, "Name", a.Name, b.Name)
	d.field(what, "Version", a.Version, b.Version)
	d.time(what, "LastMessageAt", a.LastMessageAt, b.LastMessageAt)
	for _, id := range unionKeys(a.Members, b.Members) {
		ma, aok := a.Members[id]
		mb, bok := b.Members[id]
		member := what + " member " + id
		if d.presence(member, aok, bok) {
			d.field(member, "AccountID", ma.AccountID, mb.AccountID)
			d.field(member, "Name", ma.Name, mb.Name)
			d.field(member, "Role", string(ma.Role), string(mb.Role))
		}
	}
}

func (d *differ) message(a, b Message) {
	what := "message " + a.ID
	d.field(what, "RoomID", a.RoomID, b.RoomID)
	d.field(what, "RoomName", a.RoomName, b.RoomName)
	d.field(what, "SenderID", a.SenderID, b.SenderID)
	d.field(what, "SenderName", a.SenderName, b.SenderName)
	d.field(what, "Text", a.Text, b.Text)
	d.time(what, "PostedAt", a.PostedAt, b.PostedAt)
	d.time(what, "EditedAt", a.EditedAt, b.EditedAt)
}

// show prints a value for a diff line, quoting strings and shortening long texts.
func show(v any) string {
	s, ok := v.(string)
	if !ok {
		return fmt.Sprint(v)
	}
	const maxRunes = 60
	if r := []rune(s); len(r) > maxRunes {
		return fmt.Sprintf("%q… (%d characters)", string(r[:maxRunes]), len(r))
	}
	return fmt.Sprintf("%q", s)
}

func showTime(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func unionKeys[V any](a, b map[string]V) []string {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
