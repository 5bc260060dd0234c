package search

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/schemas"
)

// horizonID is the id of the document in which a build keeps its horizon (see Prepare).
const horizonID = "horizon"

// maxAheadMessages bounds the messages a lookahead remembers (about 150 bytes each); past it a build looks
// ahead at room names and room deletions only, whose number is bounded by the rooms.
const maxAheadMessages = 2_000_000

// maxAheadAccounts bounds the accounts a lookahead remembers the names of (about 100 bytes each, so 25 MiB at
// most, a tenth of a rebuild's memory budget); past it a build writes each message with its sender's name of the
// moment and rewrites it when the name changes, as without a horizon.
const maxAheadAccounts = 250_000

// lookahead is what a build knows of the events before its horizon that change or remove what earlier events
// wrote. A nil *lookahead knows nothing: every method then answers as without a horizon.
type lookahead struct {
	// names holds each room renamed before the horizon: its name after the last such rename, and that seq.
	names map[string]namedAt
	// roomsDeleted holds the seq of each room's deletion before the horizon.
	roomsDeleted map[string]int64
	// messages holds the messages edited or deleted before the horizon; nil past maxAheadMessages.
	messages map[string]messageAhead
	// accounts holds each account registered or renamed before the horizon: its name after the last such event,
	// and that seq; nil past maxAheadAccounts.
	accounts map[string]namedAt
}

type namedAt struct {
	name string
	seq  int64
}

// messageAhead is a message's last edit before the horizon (editSeq 0: none) and whether it was deleted then.
type messageAhead struct {
	text     string
	editedAt time.Time
	editSeq  int64
	deleted  bool
}

// aheadTypes are the event types a lookahead reads.
var aheadTypes = []string{schemas.TypeRoomRenamed, schemas.TypeRoomDeleted, schemas.TypeMessageEdited,
	schemas.TypeMessageDeleted, schemas.TypeAccountRegistered, schemas.TypeAccountRenamed}

func newLookahead() *lookahead {
	return &lookahead{names: map[string]namedAt{}, roomsDeleted: map[string]int64{}, messages: map[string]messageAhead{},
		accounts: map[string]namedAt{}}
}

// add records e, an event of one of aheadTypes read in order per aggregate.
func (l *lookahead) add(e projection.Event) error {
	switch p := e.Payload.(type) {
	case *schemas.RoomRenamedV1:
		l.names[e.AggregateID] = namedAt{name: p.Name, seq: e.Seq}
	case *schemas.RoomDeletedV1:
		l.roomsDeleted[e.AggregateID] = e.Seq
	case *schemas.MessageEditedV1:
		if l.messages != nil && !l.messages[p.MessageID].deleted {
			l.remember(p.MessageID, messageAhead{text: p.Text, editedAt: e.OccurredAt.UTC(), editSeq: e.Seq})
		}
	case *schemas.MessageDeletedV1:
		if l.messages != nil {
			l.remember(p.MessageID, messageAhead{deleted: true})
		}
	case *schemas.AccountRegisteredV1:
		l.name(e.AggregateID, p.Name, e.Seq)
	case *schemas.AccountRenamedV1:
		l.name(e.AggregateID, p.Name, e.Seq)
	default:
		return fmt.Errorf("%w %T", errPayload, e.Payload)
	}
	return nil
}

// remember sets what is known of message id, forgetting every message once there are too many.
func (l *lookahead) remember(id string, m messageAhead) {
	if _, known := l.messages[id]; !known && len(l.messages) >= maxAheadMessages {
		l.messages = nil
		return
	}
	l.messages[id] = m
}

// name records account id's name at seq, forgetting every account once there are too many. A seq that a message
// version cannot hold (see senderBits) is not recorded: the account's messages then get its names as they come.
func (l *lookahead) name(id, name string, seq int64) {
	if l.accounts == nil || seq > maxAccountSeq {
		return
	}
	if _, known := l.accounts[id]; !known && len(l.accounts) >= maxAheadAccounts {
		l.accounts = nil
		return
	}
	l.accounts[id] = namedAt{name: name, seq: seq}
}

// senderName returns the name, and its seq, that the documents of account id carry, whose stored name is name
// set at seq: the name it will have at the horizon while a registration or rename before the horizon is still
// to be applied, else name. The seq goes into the documents' versions, so that the events before it, when they
// are applied, leave them alone.
func (l *lookahead) senderName(id, name string, seq int64) (string, int64) {
	if l != nil {
		if ahead, ok := l.accounts[id]; ok && ahead.seq > seq {
			return ahead.name, ahead.seq
		}
	}
	return name, seq
}

// nameCovered reports whether account id's registration or rename at seq is before the horizon: the documents
// carry its outcome already, so its stored messages need no rewrite.
func (l *lookahead) nameCovered(id string, seq int64) bool {
	if l == nil {
		return false
	}
	ahead, ok := l.accounts[id]
	return ok && seq <= ahead.seq
}

// roomName returns the name the documents of room carry: the name it will have at the horizon while a rename
// before the horizon is still to be applied, else its current name.
func (l *lookahead) roomName(room *aggregate) string {
	if l != nil {
		if ahead, ok := l.names[room.id]; ok && ahead.seq > room.nameSeq {
			return ahead.name
		}
	}
	return room.name
}

// renameCovered reports whether the rename of room at seq is before the horizon: the documents carry its
// outcome already, so its stored messages need no rewrite.
func (l *lookahead) renameCovered(room string, seq int64) bool {
	if l == nil {
		return false
	}
	ahead, ok := l.names[room]
	return ok && seq <= ahead.seq
}

// roomDeleteCovered reports whether the deletion of room at seq is before the horizon: none of its messages
// was written (see gone), so there is nothing to delete.
func (l *lookahead) roomDeleteCovered(room string, seq int64) bool {
	if l == nil {
		return false
	}
	at, ok := l.roomsDeleted[room]
	return ok && seq <= at
}

// gone reports whether message id of room is deleted before the horizon, alone or with its room: a build never
// writes its document.
func (l *lookahead) gone(id, room string) bool {
	if l == nil {
		return false
	}
	if _, ok := l.roomsDeleted[room]; ok {
		return true
	}
	return l.messages[id].deleted
}

// finalText returns the text and edit time that message id, posted at seq, has at the horizon, and whether an
// edit after seq changed them.
func (l *lookahead) finalText(id string, seq int64) (text string, editedAt time.Time, ok bool) {
	if l == nil {
		return "", time.Time{}, false
	}
	m := l.messages[id]
	return m.text, m.editedAt, m.editSeq > seq
}

// editCovered reports whether the edit of message id at seq needs no write: its text is in the document
// already (an edit before the horizon), or the message is gone.
func (l *lookahead) editCovered(id, room string, seq int64) bool {
	if l == nil {
		return false
	}
	return l.gone(id, room) || seq <= l.messages[id].editSeq
}

// Prepare makes a build write each message document once, as it will be at the horizon: with its room's last
// name, its last text, and not at all when it is deleted before the horizon; instead of writing it and then
// again on every later rename of its room, edit and delete (in a replay the rewrites of renamed rooms' messages
// cost more than everything else). It reads the renames, edits and deletions before the horizon. The horizon is stored in the index by the first Prepare of an empty index and read back by later
// ones (a restart of the build, another process), so that every document of the build agrees on one horizon;
// an index that holds documents but no horizon was built without one and is left so.
func (t *Target) Prepare(ctx context.Context, horizon projection.Offsets, read projection.ReadFunc) error {
	stored, found, err := t.readHorizon(ctx)
	if err != nil {
		return err
	}
	if !found {
		empty, err := t.empty(ctx)
		if err != nil || !empty {
			return err
		}
		// Created only if absent: of two processes preparing at once, both read the first one's horizon.
		body := append([]byte(`{"create":{"_id":"`+horizonID+`"}}`+"\n"), appendHorizonDoc(nil, horizon)...)
		raw, err := t.cl.Bulk(ctx, t.index, append(body, '\n'))
		if err == nil {
			err = checkBulk(raw)
		}
		if err != nil && strings.Contains(err.Error(), "strict_dynamic_mapping_exception") {
			return nil // an index created by code older than the horizon: built without one
		}
		if err != nil {
			return fmt.Errorf("store the horizon in %s: %w", t.index, err)
		}
		if stored, found, err = t.readHorizon(ctx); err != nil || !found {
			return fmt.Errorf("read back the horizon of %s: %w (found %t)", t.index, err, found)
		}
	}
	ahead := newLookahead()
	if err := read(ctx, stored, aheadTypes, ahead.add); err != nil {
		return fmt.Errorf("read ahead to the horizon of %s: %w", t.index, err)
	}
	t.ahead.Store(ahead)
	return nil
}

// empty reports whether the index holds no document, committed or not (it refreshes it first).
func (t *Target) empty(ctx context.Context) (bool, error) {
	if err := t.cl.Refresh(ctx, t.index); err != nil {
		return false, fmt.Errorf("refresh %s: %w", t.index, err)
	}
	raw, err := t.cl.Search(ctx, t.index, []byte(`{"size":0,"track_total_hits":true,"query":{"match_all":{}}}`))
	if err != nil {
		return false, fmt.Errorf("count the documents of %s: %w", t.index, err)
	}
	v, err := fastjson.ParseBytes(raw)
	if err != nil {
		return false, fmt.Errorf("decode the count of %s: %w", t.index, err)
	}
	return v.GetInt64("hits", "total", "value") == 0, nil
}

// readHorizon reads the stored horizon, with found false when there is none.
func (t *Target) readHorizon(ctx context.Context) (horizon projection.Offsets, found bool, err error) {
	err = mget(ctx, t.cl, t.index, t.maxBody, []string{horizonID}, func(_ string, _, src *fastjson.Value) error {
		found = true
		horizon = projection.Offsets{}
		obj, err := src.Get("horizon").Object()
		if err != nil {
			return fmt.Errorf("horizon of %s: %w", t.index, err)
		}
		obj.Visit(func(topic []byte, parts *fastjson.Value) {
			po, perr := parts.Object()
			if perr != nil {
				err = perr
				return
			}
			po.Visit(func(p []byte, off *fastjson.Value) {
				n, perr := strconv.ParseInt(string(p), 10, 32)
				if perr != nil {
					err = perr
					return
				}
				horizon.Set(string(topic), int32(n), off.GetInt64())
			})
		})
		if err != nil {
			return fmt.Errorf("horizon of %s: %w", t.index, err)
		}
		return nil
	})
	return horizon, found, err
}

// appendHorizonDoc appends the horizon document: {"kind":"horizon","horizon":{"<topic>":{"<partition>":N}}}.
func appendHorizonDoc(dst []byte, horizon projection.Offsets) []byte {
	dst = append(dst, `{"kind":"horizon","horizon":{`...)
	first := true
	for _, topic := range sortedKeys(horizon) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = schemas.AppendJSONString(dst, topic)
		dst = append(dst, ":{"...)
		for i, p := range slices.Sorted(maps.Keys(horizon[topic])) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = strconv.AppendInt(dst, int64(p), 10)
			dst = append(dst, `":`...)
			dst = strconv.AppendInt(dst, horizon[topic][p], 10)
		}
		dst = append(dst, '}')
	}
	return append(dst, "}}"...)
}
