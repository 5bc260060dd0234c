// Package searchclient builds clients for the search server: go-elasticsearch v8 for Elasticsearch, and
// opensearch-go v4 for OpenSearch and Amazon OpenSearch Service (optionally signed with AWS SigV4).
package searchclient

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/elastic/go-elasticsearch/v8"
	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
	"github.com/opensearch-project/opensearch-go/v4/signer/awsv2"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// ElasticsearchOptions are the choices of the go-elasticsearch v8 client that the configuration does not carry.
type ElasticsearchOptions struct {
	// AcceptOpenSearch lets the v8 client talk to a server that speaks the Elasticsearch document and search
	// APIs without being Elasticsearch, such as OpenSearch. The v8 client refuses any server whose first 2xx
	// answer lacks the header "X-Elastic-Product: Elasticsearch", and has no setting to turn that check off;
	// with this option the client's transport adds that header to 2xx answers. Use it only where the server
	// is known (the local stack, tests); against real Elasticsearch leave it false.
	AcceptOpenSearch bool
	// Transport is the HTTP transport underneath; nil means http.DefaultTransport.
	Transport http.RoundTripper
}

// NewElasticsearch builds a go-elasticsearch v8 client for cfg.URL with basic auth when configured. It returns
// an error when cfg is invalid or the client rejects it.
func NewElasticsearch(cfg config.Search, opts ElasticsearchOptions) (*elasticsearch.Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("search config: %w", err)
	}
	var transport http.RoundTripper = http.DefaultTransport
	if opts.Transport != nil {
		transport = opts.Transport
	}
	if opts.AcceptOpenSearch {
		transport = productHeaderTransport{next: transport}
	}
	cl, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses: []string{cfg.URL},
		Username:  cfg.Username,
		Password:  cfg.Password.Reveal(),
		Transport: transport,
	})
	if err != nil {
		return nil, fmt.Errorf("create elasticsearch client: %w", err)
	}
	return cl, nil
}

// productHeaderTransport stamps "X-Elastic-Product: Elasticsearch" on successful answers that lack it, which is
// what the v8 client's product check looks for.
type productHeaderTransport struct{ next http.RoundTripper }

// RoundTrip sends req through the wrapped transport and adds the product header to 2xx answers.
func (t productHeaderTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 && resp.Header.Get("X-Elastic-Product") == "" {
		resp.Header.Set("X-Elastic-Product", "Elasticsearch")
	}
	return resp, nil
}

// NewOpenSearch builds an opensearch-go v4 client for cfg.URL: signed with AWS SigV4 for Amazon OpenSearch
// Service when cfg.SigV4 is set (awsCfg then supplies region and credentials), else with basic auth when
// configured. It returns an error when cfg is invalid or the signer cannot be built.
func NewOpenSearch(cfg config.Search, awsCfg aws.Config) (*opensearchapi.Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("search config: %w", err)
	}
	osCfg := opensearch.Config{Addresses: []string{cfg.URL}}
	if cfg.SigV4 {
		signer, err := awsv2.NewSignerWithService(awsCfg, "es")
		if err != nil {
			return nil, fmt.Errorf("create sigv4 signer: %w", err)
		}
		osCfg.Signer = signer
	} else {
		osCfg.Username = cfg.Username
		osCfg.Password = cfg.Password.Reveal()
	}
	cl, err := opensearchapi.NewClient(opensearchapi.Config{Client: osCfg})
	if err != nil {
		return nil, fmt.Errorf("create opensearch client: %w", err)
	}
	return cl, nil
}

// PingOpenSearch is a readiness probe: it succeeds when the cluster answers a health request with a status
// other than red.
func PingOpenSearch(ctx context.Context, cl *opensearchapi.Client) error {
	resp, err := cl.Cluster.Health(ctx, nil)
	if err != nil {
		return fmt.Errorf("opensearch cluster health: %w", err)
	}
	if resp.Status == "red" {
		return fmt.Errorf("opensearch cluster health is red")
	}
	return nil
}
