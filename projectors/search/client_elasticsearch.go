package search

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// ElasticsearchClient adapts a go-elasticsearch v8 client to Client.
type ElasticsearchClient struct {
	cl *elasticsearch.Client
}

var _ Client = (*ElasticsearchClient)(nil)

// NewElasticsearchClient returns a Client that talks through cl.
func NewElasticsearchClient(cl *elasticsearch.Client) Client { return &ElasticsearchClient{cl: cl} }

// do sends req and returns the body of a 2xx answer, or a *StatusError.
func (c *ElasticsearchClient) do(ctx context.Context, op string, req esapi.Request) ([]byte, error) {
	resp, err := req.Do(ctx, c.cl)
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
func (c *ElasticsearchClient) Bulk(ctx context.Context, index string, body []byte) ([]byte, error) {
	return c.do(ctx, "bulk", esapi.BulkRequest{Index: index, Body: bytes.NewReader(body)})
}

// Mget implements Client.
func (c *ElasticsearchClient) Mget(ctx context.Context, index string, body []byte) ([]byte, error) {
	return c.do(ctx, "mget", esapi.MgetRequest{Index: index, Body: bytes.NewReader(body)})
}

// Search implements Client.
func (c *ElasticsearchClient) Search(ctx context.Context, index string, body []byte) ([]byte, error) {
	return c.do(ctx, "search", esapi.SearchRequest{Index: []string{index}, Body: bytes.NewReader(body)})
}

// Refresh implements Client.
func (c *ElasticsearchClient) Refresh(ctx context.Context, index string) error {
	_, err := c.do(ctx, "refresh", esapi.IndicesRefreshRequest{Index: []string{index}})
	return err
}

// CreateIndex implements Client.
func (c *ElasticsearchClient) CreateIndex(ctx context.Context, index string, body []byte) error {
	_, err := c.do(ctx, "create index", esapi.IndicesCreateRequest{Index: index, Body: bytes.NewReader(body)})
	return err
}

// DeleteIndex implements Client.
func (c *ElasticsearchClient) DeleteIndex(ctx context.Context, index string) error {
	_, err := c.do(ctx, "delete index", esapi.IndicesDeleteRequest{Index: []string{index}})
	return err
}

// IndexExists implements Client.
func (c *ElasticsearchClient) IndexExists(ctx context.Context, index string) (bool, error) {
	_, err := c.do(ctx, "index exists", esapi.IndicesExistsRequest{Index: []string{index}})
	if hasStatus(err, http.StatusNotFound) {
		return false, nil
	}
	return err == nil, err
}

// GetAliases implements Client.
func (c *ElasticsearchClient) GetAliases(ctx context.Context, pattern string) ([]byte, error) {
	return c.do(ctx, "get aliases", esapi.IndicesGetAliasRequest{Index: []string{pattern}})
}

// UpdateAliases implements Client.
func (c *ElasticsearchClient) UpdateAliases(ctx context.Context, body []byte) error {
	_, err := c.do(ctx, "update aliases", esapi.IndicesUpdateAliasesRequest{Body: bytes.NewReader(body)})
	return err
}

// PutSettings implements Client.
func (c *ElasticsearchClient) PutSettings(ctx context.Context, index string, body []byte) error {
	_, err := c.do(ctx, "put settings", esapi.IndicesPutSettingsRequest{Index: []string{index}, Body: bytes.NewReader(body)})
	return err
}

// wrapOp adds the operation's name to a transport error.
func wrapOp(op string, err error) error { return fmt.Errorf("%s: %w", op, err) }
