// Package e2e drives the HTTP contract through all four services, each its own process on the local stack:
// commands to two writers, in turn, which journal them in DynamoDB; the relay, which publishes the journal's stream to
// Kafka; the projectors, which build the Postgres views and the search index; and the query API, which answers
// from them. The tests speak HTTP only.
package e2e

import (
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/systemtest"
)

func TestMain(m *testing.M) { systemtest.Main(m) }

const (
	// secret signs the callers' tokens; the writer and the query API share it.
	secret = "e2e-test-secret-0123456789abcdef"
	// consistencyTimeout is how long the main query API waits for a consistency token: long enough that a
	// stale answer means a broken pipeline, not a slow machine.
	consistencyTimeout = 15 * time.Second
	// fastTimeout is the consistency timeout of the second query API, the one that answers stale.
	fastTimeout = time.Second
)

// system is the pipeline the scenarios share: four services as processes, on names of this run only, its Query
// waiting up to consistencyTimeout for a token.
type system struct {
	*systemtest.System
	// fastQuery is a second query API on the same read models, waiting up to fastTimeout.
	fastQuery string
}

// startSystem starts two writers, relay, two projectors processes (sharing the partitions in the same consumer
// groups) and two query APIs on 3 partitions with short relay and projector intervals, and waits until an event has gone all the way to both read models; everything is
// stopped and removed when t ends.
func startSystem(t *testing.T) *system {
	t.Helper()
	sys := systemtest.Start(t, systemtest.Options{
		Name: "e2e", Secret: secret, Partitions: 3, Writers: 2, Projectors: 2,
		QueryAPIs: []systemtest.QueryAPI{
			{Name: "queryapi", ConsistencyTimeout: consistencyTimeout},
			{Name: "queryapi-fast", ConsistencyTimeout: fastTimeout},
		},
		RelayScanInterval: 200 * time.Millisecond, RelayIdleWait: 20 * time.Millisecond, RelayLeaseTTL: 3 * time.Second,
		ProjectorsPollInterval: 200 * time.Millisecond,
		WaitPipeline:           true,
	})
	return &system{System: sys, fastQuery: sys.QueryAPIs[1]}
}

// TestEndToEnd starts the system once and runs every scenario against it in parallel, each with its own
// accounts and rooms; the system is stopped and its resources removed after the last scenario ends.
func TestEndToEnd(t *testing.T) {
	sys := startSystem(t)
	for _, sc := range []struct {
		name string
		run  func(*testing.T, *system)
	}{
		{"conversation with renames", conversationWithRenames},
		{"member removal", memberRemoval},
		{"message edit and delete", messageEditAndDelete},
		{"read your writes", readYourWrites},
		{"pagination", pagination},
		{"bad input", badInput},
		{"search order", searchOrder},
		{"scale-out across writers", scaleOut},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t, sys)
		})
	}
}
