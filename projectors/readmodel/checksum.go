package readmodel

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"maps"
	"slices"
	"time"
)

// Checksum returns a SHA-256, in hex, over every row of m in one canonical order: accounts, then rooms with
// their members, then messages, each sorted by id, every field written with its length, times in UTC truncated
// to the microsecond (what Postgres keeps, as Diff compares them). Two models have the same checksum exactly
// when Diff finds nothing between them (barring a SHA-256 collision), so a benchmark can compare models of
// millions of rows by one string, and call Diff only to say what differs. A nil model is an empty one.
func (m *Model) Checksum() string {
	if m == nil {
		m = &Model{}
	}
	w := checksummer{h: sha256.New()}
	w.count(len(m.Accounts))
	for _, id := range slices.Sorted(maps.Keys(m.Accounts)) {
		a := m.Accounts[id]
		w.strings(id, a.Name)
		w.int(a.Version)
	}
	w.count(len(m.Rooms))
	for _, id := range slices.Sorted(maps.Keys(m.Rooms)) {
		r := m.Rooms[id]
		w.strings(id, r.Name)
		w.int(r.Version)
		w.time(r.LastMessageAt)
		w.count(len(r.Members))
		for _, aid := range slices.Sorted(maps.Keys(r.Members)) {
			mem := r.Members[aid]
			w.strings(aid, mem.AccountID, mem.Name, string(mem.Role))
		}
	}
	w.count(len(m.Messages))
	for _, id := range slices.Sorted(maps.Keys(m.Messages)) {
		msg := m.Messages[id]
		w.strings(id, msg.RoomID, msg.RoomName, msg.SenderID, msg.SenderName, msg.Text)
		w.time(msg.PostedAt)
		w.time(msg.EditedAt)
	}
	return hex.EncodeToString(w.h.Sum(nil))
}

// checksummer writes the fields of a model's rows into a hash, each one unambiguously: strings with their
// length before them, numbers and times as fixed 8 bytes.
type checksummer struct {
	h   hash.Hash
	buf [8]byte
}

func (w *checksummer) int(v int64) {
	binary.BigEndian.PutUint64(w.buf[:], uint64(v))
	w.h.Write(w.buf[:])
}

func (w *checksummer) count(n int) { w.int(int64(n)) }

func (w *checksummer) strings(ss ...string) {
	for _, s := range ss {
		w.count(len(s))
		w.h.Write([]byte(s))
	}
}

// time writes t as microseconds since the epoch in UTC; the zero time (never set) writes as the minimum int64,
// distinct from every real instant.
func (w *checksummer) time(t time.Time) {
	if t.IsZero() {
		w.int(-1 << 63)
		return
	}
	w.int(t.Truncate(time.Microsecond).UnixMicro())
}
