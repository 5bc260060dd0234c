package search

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
)

// OpenSearchClient adapts an opensearch-go v4 client (OpenSearch, Amazon OpenSearch Service with SigV4) to
// Client.
type OpenSearchClient struct {
	cl *opensearchapi.Client
}

var _ Client = (*OpenSearchClient)(nil)

// NewOpenSearchClient returns a Client that talks through cl.
func NewOpenSearchClient(cl *opensearchapi.Client) Client { return &OpenSearchClient{cl: cl} }

// do sends req and returns the body of a 2xx answer, or a *StatusError.
func (c *OpenSearchClient) do(ctx context.Context, op, method string, req opensearch.Request) ([]byte, error) {
	resp, err := opensearch.Do[struct{}](ctx, c.cl.Client, method, req, nil)
	if err != nil {
		return nil, wrapOp(op, err)
	}
	var body []byte
	if resp.Body != nil {
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, wrapOp(op, err)
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &StatusError{Op: op, Status: resp.StatusCode, Body: string(body)}
	}
	return body, nil
}

// Bulk implements Client.
func (c *OpenSearchClient) Bulk(ctx context.Context, index string, body []byte) ([]byte, error) {
	return c.do(ctx, "bulk", http.MethodPost, opensearchapi.BulkReq{Index: index, Body: bytes.NewReader(body)})
}

// Mget implements Client.
func (c *OpenSearchClient) Mget(ctx context.Context, index string, body []byte) ([]byte, error) {
	return c.do(ctx, "mget", http.MethodPost, opensearchapi.MGetReq{Index: index, Body: bytes.NewReader(body)})
}

// Search implements Client.
func (c *OpenSearchClient) Search(ctx context.Context, index string, body []byte) ([]byte, error) {
	return c.do(ctx, "search", http.MethodPost, &opensearchapi.SearchReq{Indices: []string{index}, Body: bytes.NewReader(body)})
}

// Refresh implements Client.
func (c *OpenSearchClient) Refresh(ctx context.Context, index string) error {
	_, err := c.do(ctx, "refresh", http.MethodPost, opensearchapi.IndicesRefreshReq{Index: []string{index}})
	return err
}

// CreateIndex implements Client.
func (c *OpenSearchClient) CreateIndex(ctx context.Context, index string, body []byte) error {
	_, err := c.do(ctx, "create index", http.MethodPut, opensearchapi.IndicesCreateReq{Index: index, Body: bytes.NewReader(body)})
	return err
}

// DeleteIndex implements Client.
func (c *OpenSearchClient) DeleteIndex(ctx context.Context, index string) error {
	_, err := c.do(ctx, "delete index", http.MethodDelete, opensearchapi.IndicesDeleteReq{Indices: []string{index}})
	return err
}

// IndexExists implements Client.
func (c *OpenSearchClient) IndexExists(ctx context.Context, index string) (bool, error) {
	_, err := c.do(ctx, "index exists", http.MethodHead, opensearchapi.IndicesExistsReq{Indices: []string{index}})
	if hasStatus(err, http.StatusNotFound) {
		return false, nil
	}
	return err == nil, err
}

// GetAliases implements Client.
func (c *OpenSearchClient) GetAliases(ctx context.Context, pattern string) ([]byte, error) {
	return c.do(ctx, "get aliases", http.MethodGet, opensearchapi.AliasGetReq{Indices: []string{pattern}})
}

// UpdateAliases implements Client.
func (c *OpenSearchClient) UpdateAliases(ctx context.Context, body []byte) error {
	_, err := c.do(ctx, "update aliases", http.MethodPost, opensearchapi.AliasesReq{Body: bytes.NewReader(body)})
	return err
}

// PutSettings implements Client.
func (c *OpenSearchClient) PutSettings(ctx context.Context, index string, body []byte) error {
	_, err := c.do(ctx, "put settings", http.MethodPut, opensearchapi.SettingsPutReq{Indices: []string{index}, Body: bytes.NewReader(body)})
	return err
}
