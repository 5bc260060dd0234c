package search

import (
	"context"
	"fmt"

	"github.com/valyala/fastjson"
)

// scanPage is the number of hits one search of scan reads.
const scanPage = 1000

// scan pages with search_after through the documents of index matching query (a JSON query object), sorted by
// the keyword field sortField, and calls fn for every hit with its _id, _version and _source; fn must not keep
// src after returning. Search results are near-real-time: refresh first to see the latest writes.
func scan(ctx context.Context, cl Client, index string, query []byte, sortField string, fn func(id string, version int64, src *fastjson.Value) error) error {
	var after []byte
	for {
		body := fmt.Appendf(nil, `{"size":%d,"version":true,"track_total_hits":false,"sort":[{%q:"asc"}],"query":`, scanPage, sortField)
		body = append(body, query...)
		if after != nil {
			body = append(body, `,"search_after":[`...)
			body = append(body, after...)
			body = append(body, ']')
		}
		body = append(body, '}')
		raw, err := cl.Search(ctx, index, body)
		if err != nil {
			return fmt.Errorf("search %s: %w", index, err)
		}
		n, last, err := scanHits(raw, fn)
		if err != nil {
			return err
		}
		if n < scanPage {
			return nil
		}
		after = last
	}
}

// scanHits calls fn for each hit of one search answer and returns their number and the last sort value as JSON.
func scanHits(raw []byte, fn func(id string, version int64, src *fastjson.Value) error) (n int, last []byte, err error) {
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.ParseBytes(raw)
	if err != nil {
		return 0, nil, fmt.Errorf("decode search answer: %w", err)
	}
	hits := v.GetArray("hits", "hits")
	for _, h := range hits {
		src := h.Get("_source")
		if src == nil || src.Type() != fastjson.TypeObject {
			return 0, nil, fmt.Errorf("search hit %s: source %w", h.GetStringBytes("_id"), errNotObject)
		}
		if err := fn(string(h.GetStringBytes("_id")), h.GetInt64("_version"), src); err != nil {
			return 0, nil, err
		}
	}
	if len(hits) == 0 {
		return 0, nil, nil
	}
	return len(hits), hits[len(hits)-1].Get("sort", "0").MarshalTo(nil), nil
}
