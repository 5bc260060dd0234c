package search

import (
	lru "github.com/hashicorp/golang-lru/v2"
)

// maxCachedStates bounds the state documents a Target remembers (about 200 bytes each); past it the least
// recently used is forgotten.
const maxCachedStates = 200_000

// stateCache keeps the state documents a Target's transactions last read or wrote, so that a batch reads from
// the index only the aggregates no recent batch of this process touched: in a replay nearly every batch applies
// the same rooms and reads the same authors, and reading their documents again was most of its requests.
//
// A cached document may be stale when another process wrote it since; that is safe. Its state only decides
// which events are duplicates and what a write expects: every state write is conditional on the cached
// _seq_no, so a stale one ends in ErrStateConflict, after which the batch's aggregates are forgotten and the
// runner tries it again from the index. Its name is the other use: an entry holds only while the renames marker
// has the version it had when the entry was read or written (see get), which keeps verify's argument whole: a
// rename whose marker move came before the batch read the marker is in the index, so its entry is not served
// from here.
type stateCache struct {
	entries *lru.Cache[string, cachedState] // safe for concurrent use
}

type cachedState struct {
	at      stored
	e       entry
	renames int64 // the renames marker's version when the document was read or written
}

func newStateCache() *stateCache {
	entries, err := lru.New[string, cachedState](maxCachedStates)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &stateCache{entries: entries}
}

// get returns aggregate id's cached document if it was read or written while the renames marker was at version
// renames.
func (c *stateCache) get(id string, renames int64) (stored, entry, bool) {
	s, ok := c.entries.Get(id)
	if !ok || s.renames != renames {
		return stored{}, entry{}, false
	}
	return s.at, s.e, true
}

// put records aggregate id's document as read or written while the marker was at version renames.
func (c *stateCache) put(id string, at stored, e entry, renames int64) {
	c.entries.Add(id, cachedState{at: at, e: e, renames: renames})
}

// forget drops the documents of ids.
func (c *stateCache) forget(ids []string) {
	for _, id := range ids {
		c.entries.Remove(id)
	}
}
