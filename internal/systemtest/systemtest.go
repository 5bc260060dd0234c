// Package systemtest starts the whole pipeline for end-to-end tests and benchmarks: one or more writers, the
// relay, the projectors and one or more query APIs, each built from this module and run as its own process on the local
// stack, on tables, bucket, topics, schemas and indices of this run only, all of them removed when the test
// ends.
package systemtest

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

// System is the pipeline Start runs: the services' base URLs and the names of the run's resources.
type System struct {
	// Writer, Relay and Projectors are the base URLs ("http://127.0.0.1:port") of those services; Writer is the
	// first writer's.
	Writer, Relay, Projectors string
	// Writers holds every writer's base URL, in start order (Options.Writers of them), Writer first; AllProjectors
	// every projectors process's, Projectors first.
	Writers, AllProjectors []string
	// Query is the base URL of the first query API; QueryAPIs holds every query API's, in Options order.
	Query     string
	QueryAPIs []string
	// TablePrefix is the journal tables' prefix; Bucket the snapshot bucket; LeaseTable the relay's lease table.
	TablePrefix, Bucket, LeaseTable string
	// TopicPrefix is the event topics' prefix (<prefix>.room.events, …).
	TopicPrefix string
	// Views and Search are the projections' names, which their schemas, indices and consumer groups start with.
	Views, Search string

	procs map[string]*servicetest.Process
}

// Process returns the process named name ("writer-2", "projectors-2", …), or nil when there is none.
func (s *System) Process(name string) *servicetest.Process { return s.procs[name] }

// Start builds the four services, creates the run's journal tables, snapshot bucket and event topics, starts
// the writers, the relay, the projectors and the query APIs as processes, and waits until each answers /readyz
// with 200 (and, with Options.WaitPipeline, until an event went through to both read models); it fails the test
// when any of that fails. When tb ends the processes stop first, then everything they created is removed. The
// caller's TestMain is Main, which deletes the binaries.
func Start(tb testing.TB, opts Options) *System {
	tb.Helper()
	if err := opts.Validate(); err != nil {
		tb.Fatalf("systemtest: %v", err)
	}
	opts = opts.withDefaults()
	start := time.Now()
	bins := binaries(tb)
	tb.Logf("built the four services in %s", time.Since(start).Round(time.Millisecond))

	s := newResources(tb, opts)
	logs := map[string]string{}
	if opts.LogLevel != "" {
		logs["LOG_LEVEL"] = opts.LogLevel
	}
	journal := map[string]string{"DYNAMODB_TABLE_PREFIX": s.TablePrefix}
	topics := map[string]string{"KAFKA_TOPIC_PREFIX": s.TopicPrefix, "KAFKA_TOPIC_PARTITIONS": strconv.Itoa(int(opts.Partitions))}
	rate := map[string]string{"RATE_LIMIT_RPS": "100000", "RATE_LIMIT_BURST": "100000"}
	views := map[string]string{"PROJECTORS_VIEWS_NAME": s.Views, "PROJECTORS_SEARCH_NAME": s.Search}
	var (
		names []string
		procs []*servicetest.Process
	)
	run := func(bin, name string, args []string, env ...map[string]string) {
		env = append(append([]map[string]string{logs}, env...), opts.envOf(name)...)
		names = append(names, name)
		procs = append(procs, servicetest.StartProcess(tb, bins[bin], name, args, merge(env...)))
	}
	// Every writer may create the tables: CreateTables keeps what exists, so concurrent starts are safe, and the
	// writers stay alike, as replicas of one task are.
	for _, w := range writerNames(opts.Writers) {
		run("writer", w, nil, journal, rate, map[string]string{
			"SNAPSHOT_BUCKET": s.Bucket, "DYNAMODB_CREATE_TABLES": "true", "AUTH_HS256_SECRET": opts.Secret,
		})
	}
	run("relay", "relay", nil, journal, topics, durations(map[string]time.Duration{
		"RELAY_SCAN_INTERVAL": opts.RelayScanInterval, "RELAY_IDLE_WAIT": opts.RelayIdleWait, "RELAY_LEASE_TTL": opts.RelayLeaseTTL,
	}), map[string]string{"RELAY_LEASE_TABLE": s.LeaseTable, "DYNAMODB_CREATE_TABLES": "true"})
	for _, name := range replicaNames("projectors", opts.Projectors) {
		run("projectors", name, []string{"run"}, journal, topics, views, durations(map[string]time.Duration{
			"PROJECTORS_POLL_INTERVAL": opts.ProjectorsPollInterval,
		}), map[string]string{"SNAPSHOT_BUCKET": s.Bucket})
	}
	for _, q := range opts.QueryAPIs {
		// The query API reads no journal table and no topic, so it is told neither.
		run("queryapi", q.Name, nil, rate, views, durations(map[string]time.Duration{
			"QUERYAPI_CONSISTENCY_TIMEOUT": q.ConsistencyTimeout,
		}), map[string]string{"AUTH_HS256_SECRET": opts.Secret, "QUERYAPI_CURSOR_SECRET": cursorSecret})
	}

	// Every process was started before the first wait, so they come up side by side.
	bases := make([]string, len(procs))
	for i, p := range procs {
		bases[i] = "http://" + p.Addr(tb)
	}
	n, m := opts.Writers, opts.Projectors
	s.Writers, s.Relay, s.AllProjectors, s.QueryAPIs = bases[:n], bases[n], bases[n+1:n+1+m], bases[n+1+m:]
	s.Projectors = s.AllProjectors[0]
	s.procs = make(map[string]*servicetest.Process, len(procs))
	for i, p := range procs {
		s.procs[names[i]] = p
	}
	s.Writer = s.Writers[0]
	s.Query = s.QueryAPIs[0]
	for i, base := range bases {
		testkit.Eventually(tb, time.Minute, names[i]+" answers /readyz with 200", func() bool {
			resp, report := servicetest.Readiness(tb, base)
			return resp.Code == http.StatusOK && report.Status == "ok"
		})
	}
	if opts.WaitPipeline {
		s.waitPipeline(tb, opts.Secret)
	}
	tb.Logf("system ready in %s: views %s, search %s, topics %s.*", time.Since(start).Round(time.Millisecond),
		s.Views, s.Search, s.TopicPrefix)
	return s
}

// Main runs m's tests, deletes the service binaries Start built and exits with the tests' code: the whole
// TestMain of a package that calls Start.
func Main(m *testing.M) { servicetest.Main(m) }

// cursorSecret signs the query APIs' page cursors; its value matters to no test.
const cursorSecret = "systemtest-cursor-secret-0123456789abcdef"

// durations returns the variables of d that are set, as Go durations; a zero leaves the service's default.
func durations(d map[string]time.Duration) map[string]string {
	out := map[string]string{}
	for k, v := range d {
		if v != 0 {
			out[k] = v.String()
		}
	}
	return out
}

// merge returns the union of maps, later ones winning.
func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
