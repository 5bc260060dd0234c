package search

import (
	"context"
	"errors"
	"fmt"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/searchclient"
)

// Client is the small set of search-server calls the projection needs. Bodies go out and come back as raw JSON,
// so that the two adapters (NewOpenSearchClient, NewElasticsearchClient) stay thin and the projection parses
// answers once. Every method returns a *StatusError (wrapped) for an answer outside 2xx, and another error when
// the server could not be reached. Implementations are safe for concurrent use and keep no reference to a body
// after returning.
type Client interface {
	// Bulk sends body, NDJSON actions without "_index", to index's _bulk endpoint and returns the answer; the
	// per-item results are in the answer, not in the error.
	Bulk(ctx context.Context, index string, body []byte) ([]byte, error)
	// Mget returns the answer of index's _mget endpoint for body.
	Mget(ctx context.Context, index string, body []byte) ([]byte, error)
	// Search returns the answer of index's _search endpoint for body.
	Search(ctx context.Context, index string, body []byte) ([]byte, error)
	// Refresh makes every write to index done before the call visible to searches.
	Refresh(ctx context.Context, index string) error
	// CreateIndex creates index with body's settings and mappings.
	CreateIndex(ctx context.Context, index string, body []byte) error
	// DeleteIndex deletes index.
	DeleteIndex(ctx context.Context, index string) error
	// IndexExists reports whether index exists.
	IndexExists(ctx context.Context, index string) (bool, error)
	// GetAliases returns the aliases of the indices matching pattern, as {"<index>":{"aliases":{...}}}.
	GetAliases(ctx context.Context, pattern string) ([]byte, error)
	// UpdateAliases applies body's alias actions in one atomic request.
	UpdateAliases(ctx context.Context, body []byte) error
	// PutSettings updates index's dynamic settings with body.
	PutSettings(ctx context.Context, index string, body []byte) error
}

// StatusError is a Client's answer to a response outside 2xx: the operation, the HTTP status and the body.
type StatusError struct {
	Op     string
	Status int
	Body   string
}

// Error returns the operation, status and (shortened) body.
func (e *StatusError) Error() string {
	const maxBody = 500
	body := e.Body
	if len(body) > maxBody {
		body = body[:maxBody] + "…"
	}
	return fmt.Sprintf("%s: status %d: %s", e.Op, e.Status, body)
}

// hasStatus reports whether err is a StatusError with status.
func hasStatus(err error, status int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status == status
}

// NewClient returns the client the configuration names: go-elasticsearch v8 for SEARCH_FLAVOR=elasticsearch
// (acceptOpenSearch lets it talk to OpenSearch, for the local stack and tests), else opensearch-go v4 as built by
// openSearch (which signs with SigV4 when configured and may register a readiness check). It fails when the
// configuration is invalid.
func NewClient(cfg config.Search, acceptOpenSearch bool, openSearch func() (*opensearchapi.Client, error)) (Client, error) {
	if cfg.Flavor == "elasticsearch" {
		es, err := searchclient.NewElasticsearch(cfg, searchclient.ElasticsearchOptions{AcceptOpenSearch: acceptOpenSearch})
		if err != nil {
			return nil, err
		}
		return NewElasticsearchClient(es), nil
	}
	os, err := openSearch()
	if err != nil {
		return nil, err
	}
	return NewOpenSearchClient(os), nil
}
