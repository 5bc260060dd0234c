package adapters

import (
	"slices"
	"testing"

	"github.com/cqrses-aws/pipeline/queryapi/app"
)

// TestDecodeHits: a hit carries its document's fields, the highlight and the posted time in microseconds.
func TestDecodeHits(t *testing.T) {
	t.Parallel()
	answer := []byte(`{"hits":{"hits":[
		{"_source":{"message_id":"m2","room_id":"r1","text":"b","posted_at":"2026-11-26T09:00:00.123456789Z","seq":42},
		 "highlight":{"text":["<em>b</em>"]}},
		{"_source":{"message_id":"m1","room_id":"r1","text":"a","posted_at":"2026-11-26T08:00:00Z"}}]}}`)
	hits, err := decodeHits(answer)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0].MessageID != "m2" || hits[0].Text != "b" || hits[1].MessageID != "m1" ||
		hits[0].Highlight != "<em>b</em>" || hits[0].PostedAt.Nanosecond() != 123456000 {
		t.Errorf("decoded %+v, want m2 (highlighted, microseconds) then m1", hits)
	}
	if body := searchBody(app.SearchQuery{Text: "x", Rooms: []string{"r1"}, Limit: 1}); !slices.Contains(body["_source"].([]string), "text") {
		t.Errorf("_source %v does not ask for the text", body["_source"])
	}
}
