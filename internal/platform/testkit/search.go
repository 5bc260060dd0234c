package testkit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	"github.com/cqrses-aws/pipeline/internal/searchclient"
)

// OpenSearch returns an opensearch-go client for the stack's search server, after checking that it answers.
func OpenSearch(tb testing.TB) *opensearchapi.Client {
	tb.Helper()
	st := MustStack(tb)
	cl, err := searchclient.NewOpenSearch(st.Search, aws.Config{})
	if err != nil {
		tb.Fatalf("testkit: opensearch client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := searchclient.PingOpenSearch(ctx, cl); err != nil {
		unreachable(tb, "OpenSearch", st.Search.URL, err)
	}
	return cl
}

// SearchIndex creates an index with a unique name from body (settings and mappings as JSON; "" for none), and
// deletes it when the test ends; it returns the name.
func SearchIndex(tb testing.TB, body string) string {
	tb.Helper()
	cl := OpenSearch(tb)
	name := UniqueName(tb, "idx")
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	req := opensearchapi.IndicesCreateReq{Index: name}
	if body != "" {
		req.Body = strings.NewReader(body)
	}
	if _, err := cl.Indices.Create(ctx, req); err != nil {
		tb.Fatalf("testkit: create index %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		if _, err := cl.Indices.Delete(ctx, opensearchapi.IndicesDeleteReq{Indices: []string{name}}); err != nil {
			tb.Errorf("testkit: delete index %s: %v", name, err)
		}
	})
	return name
}
