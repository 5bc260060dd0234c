package search

import (
	"context"
	"sync/atomic"

	"github.com/cqrses-aws/pipeline/projectors/projection"
)

// Target is one version's index. It keeps no offsets (the consumer group's committed offsets are
// authoritative) and is safe for concurrent use; each Tx belongs to one goroutine.
type Target struct {
	cl       Client
	index    string
	bulkSize int
	parallel int
	maxBody  int // the largest request body, see Config.MaxRequestBytes
	// ahead is what Prepare read ahead for a build; nil when the target was not prepared.
	ahead atomic.Pointer[lookahead]
	// states are the state documents its transactions last read or wrote.
	states *stateCache
}

var (
	_ projection.Target   = (*Target)(nil)
	_ projection.Preparer = (*Target)(nil)
)

// Index returns the name of the target's index.
func (t *Target) Index() string { return t.index }

// Offsets returns nil: the search index does not store offsets.
func (t *Target) Offsets(context.Context) (projection.Offsets, error) { return nil, nil }

// Begin starts the unit of work of one batch; it makes no request.
func (t *Target) Begin(context.Context) (projection.Tx, error) { return newTx(t), nil }

// Close releases nothing: the client belongs to the caller.
func (t *Target) Close() error { return nil }
