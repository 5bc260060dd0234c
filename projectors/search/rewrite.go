package search

import (
	"context"
	"fmt"

	"github.com/valyala/fastjson"

	"github.com/cqrses-aws/pipeline/schemas"
)

// rewrite brings the stored messages of the batch's renamed rooms, renamed accounts and deleted rooms up to
// date: it refreshes the index (so earlier batches' writes are searchable), pages through them, and adds through
// w a delete (room deleted) or an index with the new names and a higher composite version. Messages this batch
// changes itself are skipped: their documents are built with the final names. It returns the messages it
// re-indexed.
func (x *tx) rewrite(ctx context.Context, w *bulkWriter) ([]*message, error) {
	if len(x.renamedRooms) == 0 && len(x.renamedAccounts) == 0 && len(x.deletedRooms) == 0 {
		return nil, nil
	}
	if err := x.t.cl.Refresh(ctx, x.t.index); err != nil {
		return nil, fmt.Errorf("refresh %s: %w", x.t.index, err)
	}
	rooms := append(sortedKeys(x.renamedRooms), sortedKeys(x.deletedRooms)...)
	queries := rewriteQueries(rooms, sortedKeys(x.renamedAccounts), x.t.maxBody)
	var rewritten []*message
	seen := map[string]struct{}{}
	var err error
	for _, query := range queries {
		err = scan(ctx, x.t.cl, x.t.index, query, "message_id", func(id string, version int64, src *fastjson.Value) error {
			if _, own := x.msgs[id]; own {
				return nil
			}
			if _, done := seen[id]; done {
				return nil
			}
			seen[id] = struct{}{}
			m, err := decodeMessage(id, src, version)
			if err != nil {
				return err
			}
			if !x.rewriteOne(m) {
				return nil
			}
			if !m.deleted {
				rewritten = append(rewritten, m)
			}
			return w.message(ctx, m)
		})
		if err != nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("rewrite messages: %w", err)
	}
	return rewritten, nil
}

// rewriteQueries returns the queries of the messages of rooms or sent by senders: one, or more when the ids
// would make a search body longer than maxBody (a message that two of them find is written once).
func rewriteQueries(rooms, senders []string, maxBody int) [][]byte {
	const overhead = 512 // the query around the ids and the search around the query
	build := func(rooms, senders []string) []byte {
		query := []byte(`{"bool":{"filter":[{"term":{"kind":"message"}}],"should":[{"terms":{"room_id":`)
		query = appendJSONStrings(query, rooms)
		query = append(query, `}},{"terms":{"sender_id":`...)
		query = appendJSONStrings(query, senders)
		return append(query, `}}],"minimum_should_match":1}}`...)
	}
	if all := build(rooms, senders); len(all)+overhead <= maxBody {
		return [][]byte{all}
	}
	var queries [][]byte
	for _, chunk := range idChunks(rooms, maxBody, overhead) {
		queries = append(queries, build(chunk, nil))
	}
	for _, chunk := range idChunks(senders, maxBody, overhead) {
		queries = append(queries, build(nil, chunk))
	}
	return queries
}

// rewriteOne updates a stored message for the batch and reports whether it needs writing.
func (x *tx) rewriteOne(m *message) bool {
	if _, deleted := x.deletedRooms[m.roomID]; deleted {
		m.deleted, m.roomSeq = true, x.aggs[m.roomID].batchSeq
		return true
	}
	changed := false
	if _, renamed := x.renamedRooms[m.roomID]; renamed {
		if room := x.aggs[m.roomID]; room.batchSeq > m.roomSeq {
			m.roomName, m.roomSeq = x.ahead.roomName(room), room.batchSeq
			changed = true
		}
	}
	if _, renamed := x.renamedAccounts[m.senderID]; renamed {
		acct := x.aggs[m.senderID]
		if name, seq := x.ahead.senderName(acct.id, acct.name, acct.nameSeq); seq > m.senderSeq {
			m.senderName, m.senderSeq = name, seq
			changed = true
		}
	}
	return changed
}

// appendJSONStrings appends ss as a JSON array of strings.
func appendJSONStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = schemas.AppendJSONString(dst, s)
	}
	return append(dst, ']')
}
