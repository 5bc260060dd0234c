package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cqrses-aws/pipeline/projectors/search"
	"github.com/cqrses-aws/pipeline/queryapi/app"
)

var _ app.Search = (*MessagesSearchReader)(nil)

// MessagesSearchReader searches the message documents of the search projector through its alias, so that a
// rebuild's switch is seen by the next query.
type MessagesSearchReader struct {
	cl    search.Client
	alias string
}

// NewMessagesSearchReader searches the index or alias named alias (the projector's PROJECTORS_SEARCH_NAME).
func NewMessagesSearchReader(cl search.Client, alias string) *MessagesSearchReader {
	return &MessagesSearchReader{cl: cl, alias: alias}
}

// highlightSize is the length, in characters, of the text fragment a hit shows.
const highlightSize = 160

// Search implements app.Search. The text goes into a match query, which analyzes it as text: no query syntax
// (fields, wildcards, boolean operators) reaches the server, and the room filter cannot be widened by it.
func (r *MessagesSearchReader) Search(ctx context.Context, q app.SearchQuery) ([]app.Hit, error) {
	if len(q.Rooms) == 0 {
		return nil, nil
	}
	body, err := json.Marshal(searchBody(q))
	if err != nil {
		return nil, fmt.Errorf("encode search: %w", err)
	}
	answer, err := r.cl.Search(ctx, r.alias, body)
	if err != nil {
		var se *search.StatusError
		if errors.As(err, &se) && se.Status < 500 && se.Status != 404 && se.Status != 429 {
			return nil, fmt.Errorf("search %s: %w", r.alias, err)
		}
		return nil, fmt.Errorf("%w: search %s: %w", app.ErrUnavailable, r.alias, err)
	}
	return decodeHits(answer)
}

// searchBody is the request: every word of the text must match, only message documents of the given rooms,
// newest first with the message id as tie-breaker (a stable order for search_after, unlike relevance, which
// moves as the index changes between two pages).
func searchBody(q app.SearchQuery) map[string]any {
	body := map[string]any{
		"size":             q.Limit,
		"track_total_hits": false,
		"_source":          []string{"message_id", "room_id", "room_name", "sender_id", "sender_name", "text", "posted_at"},
		"query": map[string]any{"bool": map[string]any{
			"must": []any{map[string]any{"match": map[string]any{"text": map[string]any{
				"query": q.Text, "operator": "and",
			}}}},
			"filter": []any{
				map[string]any{"term": map[string]any{"kind": "message"}},
				map[string]any{"terms": map[string]any{"room_id": q.Rooms}},
			},
		}},
		"sort": []any{
			map[string]any{"posted_at": map[string]any{"order": "desc"}},
			map[string]any{"message_id": map[string]any{"order": "desc"}},
		},
		"highlight": map[string]any{
			"encoder":   "html",
			"pre_tags":  []string{"<em>"},
			"post_tags": []string{"</em>"},
			"fields": map[string]any{"text": map[string]any{
				"number_of_fragments": 1, "fragment_size": highlightSize, "no_match_size": highlightSize,
			}},
		},
	}
	if q.After != nil {
		body["search_after"] = []any{q.After.PostedAt.UnixMilli(), q.After.ID}
	}
	return body
}

type searchAnswer struct {
	Hits struct {
		Hits []struct {
			Source struct {
				MessageID  string    `json:"message_id"`
				RoomID     string    `json:"room_id"`
				RoomName   string    `json:"room_name"`
				SenderID   string    `json:"sender_id"`
				SenderName string    `json:"sender_name"`
				Text       string    `json:"text"`
				PostedAt   time.Time `json:"posted_at"`
			} `json:"_source"`
			Highlight struct {
				Text []string `json:"text"`
			} `json:"highlight"`
		} `json:"hits"`
	} `json:"hits"`
}

func decodeHits(answer []byte) ([]app.Hit, error) {
	var a searchAnswer
	if err := json.Unmarshal(answer, &a); err != nil {
		return nil, fmt.Errorf("decode search answer: %w", err)
	}
	hits := make([]app.Hit, 0, len(a.Hits.Hits))
	for _, h := range a.Hits.Hits {
		s := h.Source
		hit := app.Hit{MessageID: s.MessageID, RoomID: s.RoomID, RoomName: s.RoomName, SenderID: s.SenderID,
			SenderName: s.SenderName, Text: s.Text,
			// The views keep microseconds (Postgres); both answers show the same time.
			PostedAt: s.PostedAt.UTC().Truncate(time.Microsecond)}
		if len(h.Highlight.Text) > 0 {
			hit.Highlight = h.Highlight.Text[0]
		}
		hits = append(hits, hit)
	}
	return hits, nil
}

// SearchProgress reads how far the search index applied each aggregate, as searches see it (see
// search.VisibleSeqs); it is the reader of the search index's progress.Watcher. When the projector has applied
// more of an aggregate someone waits for than the last refresh made visible, it refreshes the index, so that a
// query consistent with a write waits for the projector, not for the next periodic refresh (a second). The
// refreshes come only from waiting queries, at most one per round of the watcher.
func SearchProgress(cl search.Client, alias string) func(ctx context.Context, ids []string) (map[string]int64, error) {
	return func(ctx context.Context, ids []string) (map[string]int64, error) {
		visible, err := search.VisibleSeqs(ctx, cl, alias, ids)
		if err != nil {
			return nil, err
		}
		applied, err := search.AppliedSeqs(ctx, cl, alias, ids)
		if err != nil {
			return nil, err
		}
		for id, seq := range applied {
			if seq > visible[id] {
				if err := cl.Refresh(ctx, alias); err != nil {
					return nil, fmt.Errorf("refresh %s: %w", alias, err)
				}
				return search.VisibleSeqs(ctx, cl, alias, ids)
			}
		}
		return visible, nil
	}
}
