package adapters

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/cqrses-aws/pipeline/writer/app"
	"github.com/cqrses-aws/pipeline/writer/domain"
)

// ULIDs makes room, message, event and command ids from ULIDs: unique, and sortable by creation time.
type ULIDs struct{}

var _ app.IDs = ULIDs{}

// NewRoomID returns "room-" and a new ULID.
func (ULIDs) NewRoomID() domain.RoomID { return domain.RoomID("room-" + ulid.Make().String()) }

// maxMessageSeq is the largest seq a message id carries: 40 bits of the ULID's 80 after its time.
const maxMessageSeq = 1<<40 - 1

// NewMessageID returns "msg-" and a new ULID whose 80 bits after the time are the seq of the message's
// MessagePosted event in its room (40 bits) and 40 random bits: still a ULID, unique and sortable by time, and
// the key of the event that says who posted it (see MessageSeq). A seq beyond 40 bits gets a fully random ULID,
// found through its entity like the messages of journals from before ids carried their seq.
func (ULIDs) NewMessageID(seq int64) domain.MessageID {
	if seq < 1 || seq > maxMessageSeq {
		return domain.MessageID("msg-" + ulid.Make().String())
	}
	var entropy [10]byte
	_, _ = rand.Read(entropy[5:]) // crypto/rand.Read never fails
	var seqBytes [8]byte
	binary.BigEndian.PutUint64(seqBytes[:], uint64(seq))
	copy(entropy[:5], seqBytes[3:])
	var id ulid.ULID
	_ = id.SetTime(ulid.Timestamp(time.Now())) // fails only past the year 10889
	_ = id.SetEntropy(entropy[:])              // fails only for a length other than 10
	return domain.MessageID("msg-" + id.String())
}

// MessageSeq returns the seq a message id made by NewMessageID carries, and false for an id that carries none
// (not a "msg-" ULID, or seq 0). Ids come from clients: the seq is only a place to look, and the event found
// there must be the MessagePosted of that id.
func MessageSeq(id domain.MessageID) (int64, bool) {
	s, ok := strings.CutPrefix(string(id), "msg-")
	if !ok {
		return 0, false
	}
	u, err := ulid.ParseStrict(s)
	if err != nil {
		return 0, false
	}
	entropy := u.Entropy()
	var seqBytes [8]byte
	copy(seqBytes[3:], entropy[:5])
	seq := int64(binary.BigEndian.Uint64(seqBytes[:]))
	return seq, seq > 0
}

// NewID returns a bare new ULID, for event and command ids.
func NewID() string { return ulid.Make().String() }
