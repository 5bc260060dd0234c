package searchclient_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/internal/searchclient"
)

// messagesIndex has a CJK-aware analyzer, the kind chat text in Japanese needs.
const messagesIndex = `{
  "settings": {"analysis": {"analyzer": {"chat": {"type": "custom", "tokenizer": "standard",
    "filter": ["cjk_width", "lowercase", "cjk_bigram"]}}}},
  "mappings": {"properties": {"text": {"type": "text", "analyzer": "chat"}, "room_id": {"type": "keyword"}}}
}`

// searchHits decodes the hit ids of a search answer.
func searchHits(t *testing.T, body []byte) []string {
	t.Helper()
	var res struct {
		Hits struct {
			Hits []struct {
				ID string `json:"_id"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("decode search answer %s: %v", body, err)
	}
	ids := make([]string, 0, len(res.Hits.Hits))
	for _, h := range res.Hits.Hits {
		ids = append(ids, h.ID)
	}
	return ids
}

// TestElasticsearchClientAgainstOpenSearch indexes and searches through go-elasticsearch v8 with the documented
// AcceptOpenSearch option, and shows that without it the v8 client refuses the server.
func TestElasticsearchClientAgainstOpenSearch(t *testing.T) {
	t.Parallel()
	st := testkit.MustStack(t)
	index := testkit.SearchIndex(t, messagesIndex)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	strict, err := searchclient.NewElasticsearch(st.Search, searchclient.ElasticsearchOptions{})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	if _, err := strict.Info(strict.Info.WithContext(ctx)); err == nil ||
		!strings.Contains(err.Error(), "not Elasticsearch") {
		t.Errorf("strict v8 client against OpenSearch: err = %v, want the product check to refuse it", err)
	}

	es, err := searchclient.NewElasticsearch(st.Search, searchclient.ElasticsearchOptions{AcceptOpenSearch: true})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	doc := `{"text": "明日の会議は十時からです", "room_id": "room-1"}`
	res, err := es.Index(index, strings.NewReader(doc), es.Index.WithDocumentID("m1"),
		es.Index.WithRefresh("true"), es.Index.WithContext(ctx))
	if err != nil || res.IsError() {
		t.Fatalf("index: %v %v", err, res)
	}
	res.Body.Close()

	res, err = es.Search(es.Search.WithIndex(index), es.Search.WithContext(ctx),
		es.Search.WithBody(strings.NewReader(`{"query": {"match": {"text": "会議"}}}`)))
	if err != nil || res.IsError() {
		t.Fatalf("search: %v %v", err, res)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if ids := searchHits(t, body); len(ids) != 1 || ids[0] != "m1" {
		t.Errorf("search for 会議 found %v, want [m1]", ids)
	}
}

// TestOpenSearchClient indexes and searches through opensearch-go v4, the client for Amazon OpenSearch Service.
func TestOpenSearchClient(t *testing.T) {
	t.Parallel()
	st := testkit.MustStack(t)
	index := testkit.SearchIndex(t, messagesIndex)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	cl, err := searchclient.NewOpenSearch(st.Search, aws.Config{})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	for id, text := range map[string]string{"m1": "lunch at noon?", "m2": "the deploy is done"} {
		_, err := cl.Index(ctx, opensearchapi.IndexReq{
			Index: index, DocumentID: id, Body: strings.NewReader(`{"text": "` + text + `", "room_id": "room-1"}`),
			Params: opensearchapi.IndexParams{Refresh: "true"},
		})
		if err != nil {
			t.Fatalf("index %s: %v", id, err)
		}
	}
	res, err := cl.Search(ctx, &opensearchapi.SearchReq{
		Indices: []string{index}, Body: strings.NewReader(`{"query": {"match": {"text": "deploy"}}}`),
	})
	if err != nil {
		t.Fatalf("search: %v", err)
	}
	if len(res.Hits.Hits) != 1 || res.Hits.Hits[0].ID != "m2" {
		t.Errorf("search for deploy found %d hits, want only m2", len(res.Hits.Hits))
	}
}
