package search

import (
	"context"
	"fmt"
	"strconv"

	"github.com/valyala/fastjson"
)

// VisibleSeqs returns, for each of ids found, the seq up to which the index (or alias) has applied that
// aggregate, as searches see it: the aggregates' state documents are read through _search, so they show what
// the last refresh made visible. A batch writes its messages before its states and the index has one shard, so
// a seq seen here means every document the batch wrote is searchable too: what a reader waiting for its own
// write (read-your-writes) needs. An aggregate never applied is absent from the map. It reads the documents of
// ids only, and returns an error when the server fails or answers something else than a search result.
func VisibleSeqs(ctx context.Context, cl Client, index string, ids []string) (map[string]int64, error) {
	byDoc, docs := stateDocs(ids)
	seqs := make(map[string]int64, len(ids))
	for _, chunk := range idChunks(docs, DefaultMaxRequestBytes, 64) {
		body := []byte(`{"size":` + strconv.Itoa(len(chunk)) + `,"query":{"ids":{"values":`)
		body = appendJSONStrings(body, chunk)
		answer, err := cl.Search(ctx, index, append(body, `}}}`...))
		if err != nil {
			return nil, fmt.Errorf("search %d state documents of %s: %w", len(chunk), index, err)
		}
		v, err := fastjson.ParseBytes(answer)
		if err != nil {
			return nil, fmt.Errorf("read state documents of %s: %w", index, err)
		}
		for _, hit := range v.GetArray("hits", "hits") {
			if id, ok := byDoc[string(hit.GetStringBytes("_id"))]; ok {
				seqs[id] = hit.GetInt64("_source", "state", "seq")
			}
		}
	}
	return seqs, nil
}

// AppliedSeqs is VisibleSeqs as the index stands now, refreshed or not (the documents are read with _mget,
// which is real-time): a seq here that VisibleSeqs does not show yet becomes searchable at the next refresh.
func AppliedSeqs(ctx context.Context, cl Client, index string, ids []string) (map[string]int64, error) {
	seqs := make(map[string]int64, len(ids))
	err := mgetStates(ctx, cl, index, DefaultMaxRequestBytes, ids, func(id string, _ stored, e entry) {
		seqs[id] = e.seq
	})
	if err != nil {
		return nil, fmt.Errorf("read the states of %d aggregates of %s: %w", len(ids), index, err)
	}
	return seqs, nil
}

// stateDocs returns the state document ids of ids, with the aggregate id of each.
func stateDocs(ids []string) (map[string]string, []string) {
	byDoc := make(map[string]string, len(ids))
	docs := make([]string, 0, len(ids))
	for _, id := range ids {
		doc := stateID(id)
		if _, dup := byDoc[doc]; !dup {
			byDoc[doc] = id
			docs = append(docs, doc)
		}
	}
	return byDoc, docs
}
