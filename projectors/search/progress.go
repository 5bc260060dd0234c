package search

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/cqrses-aws/pipeline/schemas"
)

// VisibleSeqs returns, for each of ids found, the seq up to which the index (or alias) has applied that
// aggregate, as searches see it: the state buckets are read through _search, so they show what the last refresh
// made visible. A batch writes its messages before its states and the index has one shard, so a seq seen here
// means every document the batch wrote is searchable too: what a reader waiting for its own write
// (read-your-writes) needs. An aggregate never applied is absent from the map. It returns an error when the
// server fails or answers something else than a search result.
func VisibleSeqs(ctx context.Context, cl Client, index string, ids []string) (map[string]int64, error) {
	buckets := bucketIDs(ids)
	body := []byte(`{"size":` + strconv.Itoa(len(buckets)) + `,"query":{"ids":{"values":`)
	body = appendStrings(body, buckets)
	body = append(body, `}}}`...)
	answer, err := cl.Search(ctx, index, body)
	if err != nil {
		return nil, fmt.Errorf("search %d state buckets of %s: %w", len(buckets), index, err)
	}
	v, err := fastjson.ParseBytes(answer)
	if err != nil {
		return nil, fmt.Errorf("read state buckets of %s: %w", index, err)
	}
	return seqsOf(v.GetArray("hits", "hits"), ids), nil
}

// AppliedSeqs is VisibleSeqs as the index stands now, refreshed or not (the buckets are read with _mget, which
// is real-time): a seq here that VisibleSeqs does not show yet becomes searchable at the next refresh.
func AppliedSeqs(ctx context.Context, cl Client, index string, ids []string) (map[string]int64, error) {
	buckets := bucketIDs(ids)
	body := appendStrings([]byte(`{"ids":`), buckets)
	answer, err := cl.Mget(ctx, index, append(body, '}'))
	if err != nil {
		return nil, fmt.Errorf("get %d state buckets of %s: %w", len(buckets), index, err)
	}
	v, err := fastjson.ParseBytes(answer)
	if err != nil {
		return nil, fmt.Errorf("read state buckets of %s: %w", index, err)
	}
	return seqsOf(v.GetArray("docs"), ids), nil
}

// bucketIDs returns the ids of the buckets that hold ids' entries, each once.
func bucketIDs(ids []string) []string {
	buckets := make([]string, 0, len(ids))
	for _, id := range ids {
		buckets = append(buckets, bucketID(bucketOf(id)))
	}
	return slices.Compact(slices.Sorted(slices.Values(buckets)))
}

func appendStrings(dst []byte, values []string) []byte {
	dst = append(dst, '[')
	for i, v := range values {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = schemas.AppendJSONString(dst, v)
	}
	return append(dst, ']')
}

// seqsOf reads the seqs of ids from bucket documents (hits of a search, docs of an mget; a missing one has no
// _source and adds nothing).
func seqsOf(docs []*fastjson.Value, ids []string) map[string]int64 {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	seqs := make(map[string]int64, len(ids))
	for _, doc := range docs {
		if !strings.HasPrefix(string(doc.GetStringBytes("_id")), statesPrefix) {
			continue
		}
		doc.Get("_source", "states").GetObject().Visit(func(id []byte, e *fastjson.Value) {
			if want[string(id)] {
				seqs[string(id)] = decodeEntry(e).seq
			}
		})
	}
	return seqs
}
