package search

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/cqrses-aws/pipeline/schemas"
)

// stateBuckets is the number of documents that hold the aggregates' bookkeeping: an aggregate's entry lives in
// "states:<n>" with n = FNV-1a-32(id) % stateBuckets. A fixed number bounds a batch's bookkeeping writes,
// however many aggregates it touched.
const stateBuckets = 64

// statesPrefix starts the id of a states bucket document.
const statesPrefix = "states:"

// maxMerges bounds how often one write of state buckets is tried again after another process wrote other
// entries of the same buckets.
const maxMerges = 8

// ErrStateConflict is Commit's answer (wrapped) when another process changed the stored state of one of the
// batch's aggregates after States read it; the batch must be tried again from States, which the runner does
// with any error of a Target.
var ErrStateConflict = errors.New("the stored state of an aggregate changed concurrently")

// bucketOf returns the number of the bucket that holds aggregate id's entry.
func bucketOf(id string) int {
	const offset32, prime32 = 2166136261, 16777619
	h := uint32(offset32)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= prime32
	}
	return int(h % stateBuckets)
}

// bucketID returns the document id of bucket n.
func bucketID(n int) string { return statesPrefix + strconv.Itoa(n) }

// entry is what a bucket keeps of one aggregate: its State, its type and current name (with the seq of the
// event that set it; the name of an account may run ahead of its state, see commit) and whether the room was
// deleted.
type entry struct {
	typ     string
	seq     int64
	parked  bool
	name    string
	nameSeq int64
	deleted bool
}

// bucket is one states document as a tx last read or wrote it.
type bucket struct {
	n int
	// exists is false while the document was not found: a write creates it (op_type create), else it replaces
	// it if its _seq_no and _primary_term are still these.
	exists             bool
	seqNo, primaryTerm int64
	entries            map[string]entry
}

// decodeBucket reads bucket n from an mget doc (with _seq_no and _primary_term) and its source.
func decodeBucket(n int, doc, src *fastjson.Value) (*bucket, error) {
	b := &bucket{n: n, exists: true, seqNo: doc.GetInt64("_seq_no"), primaryTerm: doc.GetInt64("_primary_term")}
	obj, err := src.Get("states").Object()
	if err != nil {
		return nil, fmt.Errorf("bucket %d: states: %w", n, err)
	}
	b.entries = make(map[string]entry, obj.Len()+8)
	obj.Visit(func(id []byte, v *fastjson.Value) {
		b.entries[string(id)] = decodeEntry(v)
	})
	return b, nil
}

// decodeEntry reads one entry of a bucket.
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

// appendBucketDoc appends the document of b's entries with want's entries of ids put over them.
func appendBucketDoc(dst []byte, b *bucket, ids []string, want map[string]entry) []byte {
	dst = append(dst, `{"kind":"states","states":{`...)
	first := true
	add := func(id string, e entry) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = schemas.AppendJSONString(dst, id)
		dst = append(dst, `:{"type":`...)
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
		dst = append(dst, '}')
	}
	for id, e := range b.entries {
		if _, over := want[id]; !over {
			add(id, e)
		}
	}
	for _, id := range ids {
		add(id, want[id])
	}
	return append(dst, "}}"...)
}

// readBuckets reads buckets ns (replacing what the tx knew of them) and the message documents msgIDs (into
// stored; the caller sets their entries nil first, for the ones not found) with one mget.
func (x *tx) readBuckets(ctx context.Context, ns []int, msgIDs []string) error {
	if x.renames < 0 {
		// The marker strictly before the names it vouches for, in a request of its own (see verify).
		v, err := readRenames(ctx, x.t.cl, x.t.index)
		if err != nil {
			return err
		}
		x.renames = v
	}
	ids := make([]string, 0, len(ns)+len(msgIDs))
	for _, n := range ns {
		x.buckets[n] = &bucket{n: n, entries: map[string]entry{}}
		ids = append(ids, bucketID(n))
	}
	ids = append(ids, msgIDs...)
	return mget(ctx, x.t.cl, x.t.index, ids, func(id string, doc, src *fastjson.Value) error {
		if rest, ok := strings.CutPrefix(id, statesPrefix); ok {
			if n, err := strconv.Atoi(rest); err == nil && x.buckets[n] != nil {
				b, err := decodeBucket(n, doc, src)
				if err != nil {
					return err
				}
				x.buckets[n] = b
				return nil
			}
		}
		m, err := decodeMessage(id, src, doc.GetInt64("_version"))
		if err != nil {
			return err
		}
		x.stored[id] = m
		return nil
	})
}

// writeStates writes want's entries into their buckets with one bulk request, each bucket only if nobody wrote
// it since the tx read it. A bucket another process wrote meanwhile is read again: when the entries of want's
// aggregates are still the ones the tx based them on, the other process changed other aggregates and the write
// is tried again over its entries; otherwise it fails with ErrStateConflict.
func (x *tx) writeStates(ctx context.Context, want map[string]entry) error {
	pending := map[int][]string{}
	for id := range want {
		n := bucketOf(id)
		pending[n] = append(pending[n], id)
	}
	for merges := 0; ; merges++ {
		conflicts, err := x.putBuckets(ctx, pending, want)
		if err != nil || len(conflicts) == 0 {
			return err
		}
		if merges == maxMerges {
			return fmt.Errorf("write states: %w: %d buckets still written concurrently after %d merges",
				ErrStateConflict, len(conflicts), merges)
		}
		ns := slices.Sorted(maps.Keys(conflicts))
		if err := x.readBuckets(ctx, ns, nil); err != nil {
			return fmt.Errorf("read states again: %w", err)
		}
		for _, n := range ns {
			for _, id := range conflicts[n] {
				if stored := x.buckets[n].entries[id]; stored != x.aggs[id].base {
					return fmt.Errorf("write state of %s: %w", id, ErrStateConflict)
				}
			}
		}
		pending = conflicts
	}
}

// putBuckets writes the buckets of pending (bucket → ids of want) with one bulk request; it returns the ones
// another process wrote since the tx read them, and records the new _seq_no of the others.
func (x *tx) putBuckets(ctx context.Context, pending map[int][]string, want map[string]entry) (map[int][]string, error) {
	ns := slices.Sorted(maps.Keys(pending))
	var body []byte
	for _, n := range ns {
		b := x.buckets[n]
		if b.exists {
			body = append(body, `{"index":{"_id":`...)
			body = schemas.AppendJSONString(body, bucketID(n))
			body = append(body, `,"if_seq_no":`...)
			body = strconv.AppendInt(body, b.seqNo, 10)
			body = append(body, `,"if_primary_term":`...)
			body = strconv.AppendInt(body, b.primaryTerm, 10)
			body = append(body, "}}\n"...)
		} else {
			body = append(body, `{"create":{"_id":`...)
			body = schemas.AppendJSONString(body, bucketID(n))
			body = append(body, "}}\n"...)
		}
		body = append(appendBucketDoc(body, b, pending[n], want), '\n')
	}
	raw, err := x.t.cl.Bulk(ctx, x.t.index, body)
	if err != nil {
		return nil, fmt.Errorf("write %d state buckets: %w", len(ns), err)
	}
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.ParseBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("decode bulk answer: %w", err)
	}
	items := v.GetArray("items")
	if len(items) != len(ns) {
		return nil, fmt.Errorf("write %d state buckets: %d items in the answer", len(ns), len(items))
	}
	conflicts := map[int][]string{}
	for i, item := range items {
		obj, err := item.Object()
		if err != nil {
			return nil, fmt.Errorf("decode bulk item: %w", err)
		}
		var res *fastjson.Value
		obj.Visit(func(_ []byte, r *fastjson.Value) { res = r })
		n := ns[i]
		switch status := res.GetInt("status"); {
		case status == http.StatusOK || status == http.StatusCreated:
			b := x.buckets[n]
			b.exists, b.seqNo, b.primaryTerm = true, res.GetInt64("_seq_no"), res.GetInt64("_primary_term")
			for _, id := range pending[n] {
				b.entries[id] = want[id]
				x.aggs[id].base = want[id]
			}
		case status == http.StatusConflict:
			conflicts[n] = pending[n]
		default:
			return nil, fmt.Errorf("write state bucket %d: %d %s: %s", n, status,
				res.GetStringBytes("error", "type"), res.GetStringBytes("error", "reason"))
		}
	}
	return conflicts, nil
}

// readEntries reads, with one mget and without keeping them in a tx, the current entries of ids.
func readEntries(ctx context.Context, cl Client, index string, ids []string) (map[string]entry, error) {
	wanted := map[int][]string{}
	for _, id := range ids {
		n := bucketOf(id)
		wanted[n] = append(wanted[n], id)
	}
	docs := make([]string, 0, len(wanted))
	for _, n := range slices.Sorted(maps.Keys(wanted)) {
		docs = append(docs, bucketID(n))
	}
	out := make(map[string]entry, len(ids))
	err := mget(ctx, cl, index, docs, func(id string, _, src *fastjson.Value) error {
		n, err := strconv.Atoi(strings.TrimPrefix(id, statesPrefix))
		if err != nil {
			return fmt.Errorf("bucket id %s: %w", id, err)
		}
		states := src.Get("states")
		for _, aggID := range wanted[n] {
			if v := states.Get(aggID); v != nil {
				out[aggID] = decodeEntry(v)
			}
		}
		return nil
	})
	return out, err
}
