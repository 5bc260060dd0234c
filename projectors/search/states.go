package search

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/cqrses-aws/pipeline/schemas"
)

// An aggregate's bookkeeping lives in a document of its own, "state:<aggregate id>", so that a batch reads and
// writes the documents of its own aggregates only, and two processes contend on an aggregate only when both
// apply it. OpenSearch refuses an _id longer than 512 bytes: the document of a longer aggregate id is
// "state#<hex SHA-256 of the id>" (the "#" keeps the two forms apart), and the document keeps the id itself.
const (
	statePrefix       = "state:"
	hashedStatePrefix = "state#"
	maxDocIDBytes     = 512
)

// ErrStateConflict is Commit's answer (wrapped) when another process changed the stored state of one of the
// batch's aggregates after States read it; the batch must be tried again from States, which the runner does
// with any error of a Target.
var ErrStateConflict = errors.New("the stored state of an aggregate changed concurrently")

// stateID returns the id of aggregate id's state document.
func stateID(id string) string {
	if len(statePrefix)+len(id) <= maxDocIDBytes {
		return statePrefix + id
	}
	sum := sha256.Sum256([]byte(id))
	return hashedStatePrefix + hex.EncodeToString(sum[:])
}

// entry is what a state document keeps of one aggregate: its State, its type and current name (with the seq
// of the event that set it; the name of an account may run ahead of its state, see commit) and whether the
// room was deleted.
type entry struct {
	typ     string
	seq     int64
	parked  bool
	name    string
	nameSeq int64
	deleted bool
}

// stored is where an aggregate's state document stands as a tx last read or wrote it: while exists is false a
// write creates it (op_type create), else it replaces it if its _seq_no and _primary_term are still these.
type stored struct {
	exists             bool
	seqNo, primaryTerm int64
}

// decodeEntry reads the "state" object of a state document.
func decodeEntry(v *fastjson.Value) entry {
	return entry{
		typ:     string(v.GetStringBytes("type")),
		seq:     v.GetInt64("seq"),
		parked:  v.GetBool("parked"),
		name:    string(v.GetStringBytes("name")),
		nameSeq: v.GetInt64("name_seq"),
		deleted: v.GetBool("deleted"),
	}
}

// appendStateDoc appends the state document of aggregate id holding e.
func appendStateDoc(dst []byte, id string, e entry) []byte {
	dst = append(dst, `{"kind":"state","aggregate_id":`...)
	dst = schemas.AppendJSONString(dst, id)
	dst = append(dst, `,"state":{"type":`...)
	dst = schemas.AppendJSONString(dst, e.typ)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendInt(dst, e.seq, 10)
	if e.nameSeq > 0 {
		dst = append(dst, `,"name":`...)
		dst = schemas.AppendJSONString(dst, e.name)
		dst = append(dst, `,"name_seq":`...)
		dst = strconv.AppendInt(dst, e.nameSeq, 10)
	}
	if e.parked {
		dst = append(dst, `,"parked":true`...)
	}
	if e.deleted {
		dst = append(dst, `,"deleted":true`...)
	}
	return append(dst, "}}"...)
}

// appendStateAction appends the bulk action that writes aggregate id's document with e over what at says
// is stored: create when there is none, else index if it is still that version.
func appendStateAction(dst []byte, id string, at stored, e entry) []byte {
	if at.exists {
		dst = append(dst, `{"index":{"_id":`...)
		dst = schemas.AppendJSONString(dst, stateID(id))
		dst = append(dst, `,"if_seq_no":`...)
		dst = strconv.AppendInt(dst, at.seqNo, 10)
		dst = append(dst, `,"if_primary_term":`...)
		dst = strconv.AppendInt(dst, at.primaryTerm, 10)
	} else {
		dst = append(dst, `{"create":{"_id":`...)
		dst = schemas.AppendJSONString(dst, stateID(id))
	}
	dst = append(dst, "}}\n"...)
	return append(appendStateDoc(dst, id, e), '\n')
}

// writeStates writes want's entries, each aggregate's document only if nobody wrote it since the tx read it,
// in bulk requests of at most the target's byte cap. A document another process wrote meanwhile fails the
// write with ErrStateConflict: only a process applying the same aggregate writes its document.
func (x *tx) writeStates(ctx context.Context, want map[string]entry) error {
	ids := sortedKeys(want)
	var body []byte
	start := 0 // ids[start:end] are in body
	for end, id := range ids {
		mark := len(body)
		body = appendStateAction(body, id, x.aggs[id].stored, want[id])
		if len(body) > x.t.maxBody && end > start {
			tail := body[mark:]
			if err := x.putStates(ctx, body[:mark], ids[start:end], want); err != nil {
				return err
			}
			body = append(body[:0], tail...) // copy within: tail starts after the part just sent
			start = end
		}
	}
	return x.putStates(ctx, body, ids[start:], want)
}

// putStates sends one bulk body writing the documents of ids and records their new versions.
func (x *tx) putStates(ctx context.Context, body []byte, ids []string, want map[string]entry) error {
	if len(ids) == 0 {
		return nil
	}
	raw, err := x.t.cl.Bulk(ctx, x.t.index, body)
	if err != nil {
		return fmt.Errorf("write %d states: %w", len(ids), err)
	}
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.ParseBytes(raw)
	if err != nil {
		return fmt.Errorf("decode bulk answer: %w", err)
	}
	items := v.GetArray("items")
	if len(items) != len(ids) {
		return fmt.Errorf("write %d states: %d items in the answer", len(ids), len(items))
	}
	var conflicts []string
	for i, item := range items {
		obj, err := item.Object()
		if err != nil {
			return fmt.Errorf("decode bulk item: %w", err)
		}
		var res *fastjson.Value
		obj.Visit(func(_ []byte, r *fastjson.Value) { res = r })
		a := x.aggs[ids[i]]
		switch status := res.GetInt("status"); status {
		case http.StatusOK, http.StatusCreated:
			a.stored = stored{exists: true, seqNo: res.GetInt64("_seq_no"), primaryTerm: res.GetInt64("_primary_term")}
			a.base = want[a.id]
			if x.renames >= 0 {
				x.t.states.put(a.id, a.stored, a.base, x.renames)
			}
		case http.StatusConflict:
			conflicts = append(conflicts, a.id)
		default:
			return fmt.Errorf("write state of %s: %d %s: %s", a.id, status,
				res.GetStringBytes("error", "type"), res.GetStringBytes("error", "reason"))
		}
	}
	if len(conflicts) > 0 {
		return fmt.Errorf("write states of %d aggregates (first %s): %w", len(conflicts), conflicts[0], ErrStateConflict)
	}
	return nil
}

// readEntries reads, without keeping them in a tx, the current entries of ids (absent when not stored).
func readEntries(ctx context.Context, cl Client, index string, maxBody int, ids []string) (map[string]entry, error) {
	out := make(map[string]entry, len(ids))
	err := mgetStates(ctx, cl, index, maxBody, ids, func(id string, _ stored, e entry) {
		out[id] = e
	})
	return out, err
}

// mgetStates reads the state documents of ids and calls fn for each one found.
func mgetStates(ctx context.Context, cl Client, index string, maxBody int, ids []string, fn func(id string, at stored, e entry)) error {
	byDoc, docs := stateDocs(ids)
	return mget(ctx, cl, index, maxBody, docs, func(doc string, meta, src *fastjson.Value) error {
		fn(byDoc[doc], storedOf(meta), decodeEntry(src.Get("state")))
		return nil
	})
}

// storedOf returns the concurrency tokens of a document of an mget answer.
func storedOf(meta *fastjson.Value) stored {
	return stored{exists: true, seqNo: meta.GetInt64("_seq_no"), primaryTerm: meta.GetInt64("_primary_term")}
}
