package search

import (
	"fmt"
	"strconv"
	"time"

	"github.com/valyala/fastjson"

	"github.com/cqrses-aws/pipeline/projectors/projection"

	"github.com/cqrses-aws/pipeline/schemas"
)

// A message document's version is external and composite, roomSeq<<senderBits | senderSeq: a later room event
// (post, edit, delete, room rename or deletion) and a later name of the sender (its account's seq) both raise
// it, so a replayed or duplicate write is refused as already applied, and writers converge on the newest
// content with the newest sender name. A version is a signed 64-bit number, so the two seqs share 63 bits:
//
//   - a room's seq must stay below 2^37 (137 billion events in one room: 100 events/s without pause for 43
//     years);
//   - an account's seq below 2^26-1 (67 million registrations and renames of one account: a rename every
//     second without pause for two years).
//
// An event beyond either limit can never be written and is answered projection.Permanent (see fold), which
// dead-letters it and parks its aggregate instead of retrying it forever.
const (
	senderBits = 26
	senderMask = 1<<senderBits - 1
	// maxRoomSeq and maxAccountSeq are the largest seqs a version holds.
	maxRoomSeq    = 1<<(63-senderBits) - 1
	maxAccountSeq = senderMask - 1
	// deletedLow is the low part of a delete's version, above any account seq, so a delete at room seq R wins
	// over every document written at R.
	deletedLow = senderMask
)

// message is one message document as the projection builds it.
type message struct {
	id, roomID, roomName, senderID, senderName, text string
	postedAt, editedAt                               time.Time
	// seq is the room seq of the MessagePosted that created the message (the document's "seq"; 0 while
	// unknown, for a placeholder of a deletion).
	seq int64
	// roomSeq and senderSeq make the document's version; senderSeq is the seq of the account event whose name
	// senderName is (0 while unknown).
	roomSeq, senderSeq int64
	deleted            bool
}

// version returns the message's composite external version.
func (m *message) version() int64 {
	if m.deleted {
		return m.roomSeq<<senderBits | deletedLow
	}
	return m.roomSeq<<senderBits | m.senderSeq
}

// aggregate is what a tx knows of one aggregate: its stored entry, and the name and flags as this batch leaves
// them.
type aggregate struct {
	id, typ string
	// state is the stored State, base the stored entry, stored where its document stands.
	state   projection.State
	base    entry
	stored  stored
	name    string
	nameSeq int64 // seq of the event that set name
	deleted bool  // a deleted room
	// batchSeq is the last seq applied to the aggregate in this batch (0 for none).
	batchSeq int64
}

// newAggregate returns aggregate id as stored in e at at (the zero values for one never seen).
func newAggregate(id string, at stored, e entry) *aggregate {
	return &aggregate{
		id: id, typ: e.typ, state: projection.State{Seq: e.seq, Parked: e.parked}, base: e, stored: at,
		name: e.name, nameSeq: e.nameSeq, deleted: e.deleted,
	}
}

// entry returns what a's state document is to hold with state st. The stored seq never goes back: a replay that saves
// an older state (possible only without the runner's duplicate filter) keeps the stored one.
func (a *aggregate) entry(st projection.State) entry {
	if st.Seq < a.base.seq {
		st = projection.State{Seq: a.base.seq, Parked: a.base.parked}
	}
	typ := a.typ
	if typ == "" {
		typ = a.base.typ
	}
	return entry{typ: typ, seq: st.Seq, parked: st.Parked, name: a.name, nameSeq: a.nameSeq, deleted: a.deleted}
}

// appendTime appends t as a JSON string in RFC 3339 with nanoseconds, UTC, or null for the zero time.
func appendTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, "null"...)
	}
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

// appendMessageDoc appends m's document.
func appendMessageDoc(dst []byte, m *message) []byte {
	dst = append(dst, `{"kind":"message","message_id":`...)
	dst = schemas.AppendJSONString(dst, m.id)
	dst = append(dst, `,"room_id":`...)
	dst = schemas.AppendJSONString(dst, m.roomID)
	dst = append(dst, `,"room_name":`...)
	dst = schemas.AppendJSONString(dst, m.roomName)
	dst = append(dst, `,"sender_id":`...)
	dst = schemas.AppendJSONString(dst, m.senderID)
	dst = append(dst, `,"sender_name":`...)
	dst = schemas.AppendJSONString(dst, m.senderName)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendInt(dst, m.seq, 10)
	dst = append(dst, `,"text":`...)
	dst = schemas.AppendJSONString(dst, m.text)
	dst = append(dst, `,"posted_at":`...)
	dst = appendTime(dst, m.postedAt)
	dst = append(dst, `,"edited_at":`...)
	dst = appendTime(dst, m.editedAt)
	return append(dst, '}')
}

// decodeMessage reads a message document's source and its version.
func decodeMessage(id string, src *fastjson.Value, version int64) (*message, error) {
	m := &message{
		id:         id,
		roomID:     string(src.GetStringBytes("room_id")),
		roomName:   string(src.GetStringBytes("room_name")),
		senderID:   string(src.GetStringBytes("sender_id")),
		senderName: string(src.GetStringBytes("sender_name")),
		text:       string(src.GetStringBytes("text")),
		seq:        src.GetInt64("seq"),
		roomSeq:    version >> senderBits,
		senderSeq:  version & senderMask,
	}
	var err error
	if m.postedAt, err = decodeTime(src, "posted_at"); err != nil {
		return nil, fmt.Errorf("message %s: %w", id, err)
	}
	if m.editedAt, err = decodeTime(src, "edited_at"); err != nil {
		return nil, fmt.Errorf("message %s: %w", id, err)
	}
	return m, nil
}

// decodeTime reads an RFC 3339 field, zero when null or missing.
func decodeTime(src *fastjson.Value, field string) (time.Time, error) {
	raw := src.GetStringBytes(field)
	if raw == nil {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, string(raw))
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", field, err)
	}
	return t.UTC(), nil
}
