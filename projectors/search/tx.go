package search

import (
	"context"
	"errors"
	"fmt"

	"github.com/valyala/fastjson"

	"github.com/cqrses-aws/pipeline/projectors/projection"
)

// errTxDone is the answer of a Tx used after Commit or Rollback.
var errTxDone = errors.New("search tx: already committed or rolled back")

// tx folds one batch in memory and writes it at Commit: message actions first (bulk), then the state documents
// of the batch's aggregates, so that a state never runs ahead of the documents.
//
// Deleting with external versioning leaves a tombstone that refuses older versions only for index.gc_deletes
// (60 s by default); after that an old replayed MessagePosted could bring a deleted message back. That is fine
// here because the runner drops every event with seq <= State.Seq before Apply (and fold drops them too), and
// a state is written only after the batch's deletes; the versions guard against the short window of a crash
// between the two writes.
type tx struct {
	t    *Target
	aggs map[string]*aggregate // by aggregate id: from its state document, or new to the index
	// msgs are the messages this batch changed, folded (posted+edited+deleted make one action); order keeps
	// their first-touch order.
	msgs  map[string]*message
	order []*message
	// stored are message documents read for edits of messages this batch did not post; a nil entry was not found.
	stored map[string]*message
	// The aggregates whose names changed or whose rooms were deleted, whose stored messages Commit rewrites.
	renamedRooms, renamedAccounts, deletedRooms map[string]struct{}
	saved                                       map[string]projection.State
	done                                        bool
	// ahead are the room names a build writes ahead of their renames (see Target.Prepare); nil otherwise.
	ahead *lookahead
	// renames is the version of the renames marker when the tx first read state documents, -1 before (see
	// verify); 0 when the marker does not exist.
	renames int64
}

var _ projection.Tx = (*tx)(nil)

func newTx(t *Target) *tx {
	return &tx{ahead: t.ahead.Load(), renames: -1,
		t: t, aggs: map[string]*aggregate{}, msgs: map[string]*message{}, stored: map[string]*message{},
		renamedRooms: map[string]struct{}{}, renamedAccounts: map[string]struct{}{}, deletedRooms: map[string]struct{}{},
	}
}

// States reads the state documents of aggregateIDs (mget); an aggregate never seen has the zero State. It
// takes no lock: the search server has none; Commit writes a document only if nobody wrote it meanwhile.
func (x *tx) States(ctx context.Context, aggregateIDs []string) (map[string]projection.State, error) {
	if x.done {
		return nil, errTxDone
	}
	if err := x.load(ctx, aggregateIDs, nil); err != nil {
		return nil, err
	}
	states := make(map[string]projection.State, len(aggregateIDs))
	for _, id := range aggregateIDs {
		states[id] = x.aggs[id].state
	}
	return states, nil
}

// load reads, with one mget (more past the byte cap), the state documents of the aggregates not yet known and
// not in the target's cache, and the documents of messageIDs not yet read; afterwards every aggregate id has an
// entry in aggs (empty when not stored) and every message id one in stored (nil when not stored).
func (x *tx) load(ctx context.Context, aggregateIDs, messageIDs []string) error {
	if !x.lacks(aggregateIDs, messageIDs) {
		return nil
	}
	if x.renames < 0 {
		// The marker strictly before the names it vouches for, in a request of its own (see verify).
		v, err := readRenames(ctx, x.t.cl, x.t.index)
		if err != nil {
			return err
		}
		x.renames = v
	}
	byDoc := map[string]string{} // state document id → aggregate id
	var docs []string
	for _, id := range aggregateIDs {
		if _, ok := x.aggs[id]; ok {
			continue
		}
		if at, e, ok := x.t.states.get(id, x.renames); ok {
			x.aggs[id] = newAggregate(id, at, e)
			continue
		}
		x.aggs[id] = newAggregate(id, stored{}, entry{})
		doc := stateID(id)
		byDoc[doc] = id
		docs = append(docs, doc)
	}
	for _, id := range messageIDs {
		if _, ok := x.stored[id]; !ok {
			x.stored[id] = nil
			docs = append(docs, id)
		}
	}
	if len(docs) == 0 {
		return nil
	}
	err := mget(ctx, x.t.cl, x.t.index, x.t.maxBody, docs, func(doc string, meta, src *fastjson.Value) error {
		if id, ok := byDoc[doc]; ok {
			at, e := storedOf(meta), decodeEntry(src.Get("state"))
			x.aggs[id] = newAggregate(id, at, e)
			x.t.states.put(id, at, e, x.renames)
			return nil
		}
		m, err := decodeMessage(doc, src, meta.GetInt64("_version"))
		if err != nil {
			return err
		}
		x.stored[doc] = m
		return nil
	})
	if err != nil {
		// Forget what was not read, so that nothing passes for not stored.
		for _, id := range byDoc {
			delete(x.aggs, id)
		}
		for _, id := range messageIDs {
			delete(x.stored, id)
		}
	}
	return err
}

// lacks reports whether any of aggregateIDs or messageIDs is not known to the tx yet.
func (x *tx) lacks(aggregateIDs, messageIDs []string) bool {
	for _, id := range aggregateIDs {
		if _, ok := x.aggs[id]; !ok {
			return true
		}
	}
	for _, id := range messageIDs {
		if _, ok := x.stored[id]; !ok {
			return true
		}
	}
	return false
}

// Save records the states Commit writes; next is ignored, as the consumer group keeps the offsets.
func (x *tx) Save(_ context.Context, states map[string]projection.State, _ projection.Offsets) error {
	if x.done {
		return errTxDone
	}
	if x.saved == nil {
		x.saved = make(map[string]projection.State, len(states))
	}
	for id, st := range states {
		x.saved[id] = st
	}
	return nil
}

// Rollback abandons the batch; nothing was written before Commit. The cache forgets the batch's aggregates, so
// that a batch tried again reads them from the index.
func (x *tx) Rollback(context.Context) error {
	if !x.done {
		x.forget()
	}
	x.done = true
	return nil
}

// Commit writes the batch; see commit.go. When it fails, the cache forgets the batch's aggregates: a conflict
// means that another process wrote some of them.
func (x *tx) Commit(ctx context.Context) error {
	if x.done {
		return errTxDone
	}
	if err := x.commit(ctx); err != nil {
		x.forget()
		return fmt.Errorf("commit to %s: %w", x.t.index, err)
	}
	x.done = true
	return nil
}

// forget drops the batch's aggregates from the target's cache.
func (x *tx) forget() { x.t.states.forget(sortedKeys(x.aggs)) }
