// Package e2ebench measures the whole pipeline (writer → DynamoDB stream → relay → Kafka → projectors → query
// API), each service its own process on the local stack: how long after a command's response its write is
// visible through the query API. Without -bench, `go test` runs only the unit tests of its schedule and
// configuration here.
package e2ebench

import (
	"net/http"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/systemtest"
)

// TestMain runs the benchmarks, then deletes the service binaries they built.
func TestMain(m *testing.M) { systemtest.Main(m) }

// pipeline is the four services running as processes on names of this run only, and the HTTP client the
// benchmark calls them with.
type pipeline struct {
	*systemtest.System
	client *http.Client
}

// startPipeline starts writer, relay, projectors and query API as processes (the services' defaults, but info
// logs, a rate limit the benchmark never reaches and QUERYAPI_CONSISTENCY_TIMEOUT=10s) and waits until each
// answers /readyz; its client gives up on a request after 15 s (the writer's command timeout and the query
// API's wait are 10 s), which bounds the drain after the load. When the benchmark ends the processes stop
// first, then everything they created is removed.
func startPipeline(b *testing.B) *pipeline {
	b.Helper()
	p := &pipeline{
		System: systemtest.Start(b, systemtest.Options{
			Name: "eb", Secret: secret, Partitions: partitions, LogLevel: "info",
			QueryAPIs: []systemtest.QueryAPI{{Name: "queryapi", ConsistencyTimeout: consistencyTimeout}},
		}),
		client: &http.Client{Timeout: consistencyTimeout + 5*time.Second, Transport: &http.Transport{
			MaxIdleConns: 1024, MaxIdleConnsPerHost: 512, DisableCompression: true,
		}},
	}
	b.Cleanup(p.client.CloseIdleConnections)
	return p
}
