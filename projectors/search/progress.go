package search

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/cqrses-aws/pipeline/schemas"
)

// AppliedSeqs returns, for each of ids found, the seq up to which the index (or alias) has applied that
// aggregate, as searches see it: the state buckets are read through _search, not _mget, so they show what the
// last refresh made visible. A batch writes its messages before its states and the index has one shard, so a seq
// seen here means every document the batch wrote is searchable too: this is what a reader waiting for its own
// write (read-your-writes) needs. An aggregate never applied is absent from the map. It returns an error when
// the server fails or answers something else than a search result.
func AppliedSeqs(ctx context.Context, cl Client, index string, ids []string) (map[string]int64, error) {
	buckets := make([]string, 0, len(ids))
	for _, id := range ids {
		buckets = append(buckets, bucketID(bucketOf(id)))
	}
	buckets = slices.Compact(slices.Sorted(slices.Values(buckets)))
	body := []byte(`{"size":` + fmt.Sprint(len(buckets)) + `,"query":{"ids":{"values":[`)
	for i, b := range buckets {
		if i > 0 {
			body = append(body, ',')
		}
		body = schemas.AppendJSONString(body, b)
	}
	body = append(body, `]}}}`...)
	answer, err := cl.Search(ctx, index, body)
	if err != nil {
		return nil, fmt.Errorf("read %d state buckets of %s: %w", len(buckets), index, err)
	}
	v, err := fastjson.ParseBytes(answer)
	if err != nil {
		return nil, fmt.Errorf("read state buckets of %s: %w", index, err)
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	seqs := make(map[string]int64, len(ids))
	for _, hit := range v.GetArray("hits", "hits") {
		if !strings.HasPrefix(string(hit.GetStringBytes("_id")), statesPrefix) {
			continue
		}
		hit.Get("_source", "states").GetObject().Visit(func(id []byte, e *fastjson.Value) {
			if want[string(id)] {
				seqs[string(id)] = decodeEntry(e).seq
			}
		})
	}
	return seqs, nil
}
