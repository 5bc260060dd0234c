package adapters

import (
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// aggregateCache keeps hot aggregates in memory, bounded by entries and by an estimate of their bytes; the least
// recently used go first. It is safe for concurrent use. Correctness never depends on it: a stale entry makes
// the append fail with a version conflict, which evicts it, and a rejection decided on an entry is confirmed
// against the journal first.
type aggregateCache[A any] struct {
	mu       sync.Mutex
	lru      *simplelru.LRU[string, cached[A]]
	bytes    int
	maxBytes int
}

type cached[A any] struct {
	agg  A
	size int
}

func newAggregateCache[A any](maxEntries, maxBytes int) (*aggregateCache[A], error) {
	c := &aggregateCache[A]{maxBytes: maxBytes}
	// The callback runs for every entry that leaves: evicted as the oldest, removed, or purged.
	lru, err := simplelru.NewLRU(maxEntries, func(_ string, v cached[A]) { c.bytes -= v.size })
	if err != nil {
		return nil, err
	}
	c.lru = lru
	return c, nil
}

func (c *aggregateCache[A]) get(id string) (A, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.lru.Get(id)
	return v.agg, ok
}

// put stores agg under id with its estimated size, replacing (and uncounting) any entry under id, then evicts
// the oldest entries until under the byte bound; an aggregate larger than the whole bound is not kept.
func (c *aggregateCache[A]) put(id string, agg A, size int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Add replaces an entry in place without the eviction callback, so its old size is taken off here.
	if old, ok := c.lru.Peek(id); ok {
		c.bytes -= old.size
	}
	c.lru.Add(id, cached[A]{agg: agg, size: size})
	c.bytes += size
	for c.bytes > c.maxBytes && c.lru.Len() > 0 {
		c.lru.RemoveOldest()
	}
}

func (c *aggregateCache[A]) evict(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(id)
}

func (c *aggregateCache[A]) stats() (entries, bytes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len(), c.bytes
}
