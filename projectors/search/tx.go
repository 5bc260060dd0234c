package search

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/cqrses-aws/pipeline/projectors/projection"
)

// errTxDone is the answer of a Tx used after Commit or Rollback.
var errTxDone = errors.New("search tx: already committed or rolled back")

// tx folds one batch in memory and writes it at Commit: message actions first (bulk), then the aggregates'
// bookkeeping documents, so that a state never runs ahead of the documents.
//
// Deleting with external versioning leaves a tombstone that refuses older versions only for index.gc_deletes
// (60 s by default); after that an old replayed MessagePosted could bring a deleted message back. That is fine
// here because the runner drops every event with seq <= State.Seq before Apply, and a state is written only
// after the batch's deletes; the versions guard against the short window of a crash between the two writes.
type tx struct {
	t    *Target
	aggs map[string]*aggregate // by aggregate id: read from the index, or created by this batch
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
}

var _ projection.Tx = (*tx)(nil)

func newTx(t *Target) *tx {
	return &tx{
		t: t, aggs: map[string]*aggregate{}, msgs: map[string]*message{}, stored: map[string]*message{},
		renamedRooms: map[string]struct{}{}, renamedAccounts: map[string]struct{}{}, deletedRooms: map[string]struct{}{},
	}
}

// States reads the bookkeeping documents of aggregateIDs with one mget; an aggregate never seen has the zero
// State. It takes no lock: the search server has none, and the versions make concurrent writers converge.
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

// load reads, with one mget, the bookkeeping documents of the aggregates not yet known and the documents of
// messageIDs; afterwards every aggregate id has an entry in aggs (empty when not stored) and every message id
// one in stored (nil when not stored).
func (x *tx) load(ctx context.Context, aggregateIDs, messageIDs []string) error {
	ids := make([]string, 0, len(aggregateIDs)+len(messageIDs))
	for _, id := range aggregateIDs {
		if _, ok := x.aggs[id]; !ok {
			x.aggs[id] = &aggregate{id: id}
			ids = append(ids, aggPrefix+id)
		}
	}
	for _, id := range messageIDs {
		if _, ok := x.stored[id]; !ok {
			x.stored[id] = nil
			ids = append(ids, id)
		}
	}
	return mget(ctx, x.t.cl, x.t.index, ids, func(id string, version int64, src *fastjson.Value) error {
		if aggID, ok := strings.CutPrefix(id, aggPrefix); ok {
			x.aggs[aggID] = decodeAggregate(aggID, src)
			return nil
		}
		m, err := decodeMessage(id, src, version)
		if err != nil {
			return err
		}
		x.stored[id] = m
		return nil
	})
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

// Rollback abandons the batch; nothing was written before Commit.
func (x *tx) Rollback(context.Context) error {
	x.done = true
	return nil
}

// Commit writes the batch; see commit.go.
func (x *tx) Commit(ctx context.Context) error {
	if x.done {
		return errTxDone
	}
	if err := x.commit(ctx); err != nil {
		return fmt.Errorf("commit to %s: %w", x.t.index, err)
	}
	x.done = true
	return nil
}
