// Package e2e drives the HTTP contract through all four services, each its own process on the local stack:
// commands to the writer, which journals them in DynamoDB; the relay, which publishes the journal's stream to
// Kafka; the projectors, which build the Postgres views and the search index; and the query API, which answers
// from them. The tests speak HTTP only.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/jackc/pgx/v5"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/cqrses-aws/pipeline/internal/eventstore/eventstoretest"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

func TestMain(m *testing.M) {
	code := m.Run()
	servicetest.RemoveBinaries()
	os.Exit(code)
}

const (
	// secret signs the callers' tokens; the writer and the query API share it.
	secret = "e2e-test-secret-0123456789abcdef"
	// consistencyTimeout is how long the main query API waits for a consistency token: long enough that a
	// stale answer means a broken pipeline, not a slow machine.
	consistencyTimeout = 15 * time.Second
	// fastTimeout is the consistency timeout of the second query API, the one that answers stale.
	fastTimeout = time.Second
)

// system is the pipeline the scenarios share: four services as processes, on names of this run only.
type system struct {
	// writer is the writer's base URL.
	writer string
	// query is the query API's base URL, waiting up to consistencyTimeout for a token.
	query string
	// fastQuery is a second query API on the same read models, waiting up to fastTimeout.
	fastQuery string
	// projectors is the projectors' base URL (operational endpoints only).
	projectors string
	// viewsName and searchName are the projections' stable names.
	viewsName, searchName string
}

// names are the unique names one run's resources get.
type names struct {
	tablePrefix, bucket, leaseTable, topicPrefix, views, search string
}

// startSystem makes this run's tables, bucket and topics, starts writer, relay, projectors and two query APIs
// as processes, waits until they are ready and an event has gone all the way to both read models, and cleans
// everything up when t ends (the processes first, then what they wrote).
func startSystem(t *testing.T) *system {
	t.Helper()
	start := time.Now()
	n := makeNames(t)
	bins := map[string]string{}
	for _, svc := range []string{"writer", "relay", "projectors", "queryapi"} {
		bins[svc] = servicetest.Binary(t, "../../"+svc)
	}
	t.Logf("built the four services in %s", time.Since(start).Round(time.Millisecond))

	rate := map[string]string{"RATE_LIMIT_RPS": "100000", "RATE_LIMIT_BURST": "100000"}
	writer := servicetest.StartProcess(t, bins["writer"], "writer", nil, with(rate, map[string]string{
		"DYNAMODB_TABLE_PREFIX": n.tablePrefix, "SNAPSHOT_BUCKET": n.bucket, "DYNAMODB_CREATE_TABLES": "true",
		"AUTH_HS256_SECRET": secret,
	}))
	relay := servicetest.StartProcess(t, bins["relay"], "relay", nil, map[string]string{
		"DYNAMODB_TABLE_PREFIX": n.tablePrefix, "RELAY_LEASE_TABLE": n.leaseTable, "DYNAMODB_CREATE_TABLES": "true",
		"KAFKA_TOPIC_PREFIX": n.topicPrefix, "KAFKA_TOPIC_PARTITIONS": "3",
		"RELAY_SCAN_INTERVAL": "200ms", "RELAY_IDLE_WAIT": "20ms", "RELAY_LEASE_TTL": "3s",
	})
	projectors := servicetest.StartProcess(t, bins["projectors"], "projectors", []string{"run"}, map[string]string{
		"DYNAMODB_TABLE_PREFIX": n.tablePrefix, "SNAPSHOT_BUCKET": n.bucket,
		"KAFKA_TOPIC_PREFIX": n.topicPrefix, "KAFKA_TOPIC_PARTITIONS": "3",
		"PROJECTORS_VIEWS_NAME": n.views, "PROJECTORS_SEARCH_NAME": n.search, "PROJECTORS_POLL_INTERVAL": "200ms",
	})
	queryEnv := func(timeout time.Duration) map[string]string {
		return with(rate, map[string]string{
			"AUTH_HS256_SECRET": secret, "PROJECTORS_VIEWS_NAME": n.views, "PROJECTORS_SEARCH_NAME": n.search,
			"QUERYAPI_CONSISTENCY_TIMEOUT": timeout.String(), "QUERYAPI_CURSOR_SECRET": "e2e-cursor-secret-0123456789abcdef",
		})
	}
	query := servicetest.StartProcess(t, bins["queryapi"], "queryapi", nil, queryEnv(consistencyTimeout))
	fastQuery := servicetest.StartProcess(t, bins["queryapi"], "queryapi-fast", nil, queryEnv(fastTimeout))

	sys := &system{
		writer: "http://" + writer.Addr(t), query: "http://" + query.Addr(t), fastQuery: "http://" + fastQuery.Addr(t),
		projectors: "http://" + projectors.Addr(t), viewsName: n.views, searchName: n.search,
	}
	for name, base := range map[string]string{
		"writer": sys.writer, "relay": "http://" + relay.Addr(t), "projectors": sys.projectors,
		"queryapi": sys.query, "queryapi-fast": sys.fastQuery,
	} {
		testkit.Eventually(t, time.Minute, name+" answers /readyz with 200", func() bool {
			resp, report := servicetest.Readiness(t, base)
			return resp.Code == 200 && report.Status == "ok"
		})
	}
	sys.waitPipeline(t)
	t.Logf("system ready in %s: views %s, search %s, topics %s.*", time.Since(start).Round(time.Millisecond),
		n.views, n.search, n.topicPrefix)
	return sys
}

// makeNames creates the journal tables, the snapshot bucket and the event topics (3 partitions) under unique
// names, and registers the removal of everything the services create under them: the relay's lease table, the
// views' schemas, the search indices, the consumer groups and the dead-letter topics. Registered before the
// processes start, these cleanups run after the processes stopped.
func makeNames(t *testing.T) names {
	t.Helper()
	journal := eventstoretest.NewDynamoDBFixture(t, nil)
	unique := strings.ReplaceAll(testkit.UniqueName(t, "e2e"), "-", "_")
	n := names{
		tablePrefix: strings.TrimSuffix(journal.Tables.Journal, "-journal"), bucket: journal.Bucket,
		topicPrefix: testkit.EventTopics(t, 3), views: "v" + unique, search: "s" + unique,
	}
	n.leaseTable = n.tablePrefix + "-relay-leases"
	t.Cleanup(func() { cleanup(t, n) })
	return n
}

// cleanup removes what the services made under n's names; every failure is reported, none stops the others.
func cleanup(t *testing.T, n names) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := testkit.MustStack(t)

	if _, err := testkit.AWS(t).DynamoDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(n.leaseTable)}); err != nil {
		var notFound *types.ResourceNotFoundException
		if !errors.As(err, &notFound) {
			t.Errorf("cleanup: delete lease table %s: %v", n.leaseTable, err)
		}
	}

	if conn, err := pgx.Connect(ctx, st.Postgres.URL.Reveal()); err != nil {
		t.Errorf("cleanup: connect to postgres: %v", err)
	} else {
		defer conn.Close(ctx)
		rows, _ := conn.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname = $1 OR starts_with(nspname, $1 || '_v')`, n.views)
		schemas, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Errorf("cleanup: list schemas of %s: %v", n.views, err)
		}
		for _, s := range schemas {
			if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{s}.Sanitize()+" CASCADE"); err != nil {
				t.Errorf("cleanup: drop schema %s: %v", s, err)
			}
		}
	}

	req := opensearchapi.IndicesDeleteReq{Indices: []string{n.search + "_v*"}}
	if _, err := testkit.OpenSearch(t).Indices.Delete(ctx, req); err != nil {
		t.Errorf("cleanup: delete indices %s_v*: %v", n.search, err)
	}

	adm := kadm.NewClient(testkit.KafkaClient(t))
	if groups, err := adm.ListGroups(ctx); err != nil {
		t.Errorf("cleanup: list consumer groups: %v", err)
	} else {
		var ours []string
		for _, g := range groups.Groups() {
			if strings.HasPrefix(g, n.views+".v") || strings.HasPrefix(g, n.search+".v") {
				ours = append(ours, g)
			}
		}
		if len(ours) > 0 {
			resps, err := adm.DeleteGroups(ctx, ours...)
			for _, r := range resps {
				err = errors.Join(err, r.Err)
			}
			if err != nil {
				t.Errorf("cleanup: delete consumer groups %v: %v", ours, err)
			}
		}
	}
	// The event topics are testkit's to delete; the dead-letter topics the projectors made are ours.
	if topics, err := adm.ListTopics(ctx); err != nil {
		t.Errorf("cleanup: list topics: %v", err)
	} else {
		var dlq []string
		for _, name := range topics.Names() {
			if strings.HasPrefix(name, n.topicPrefix+".") && strings.HasSuffix(name, ".dlq") {
				dlq = append(dlq, name)
			}
		}
		if len(dlq) > 0 {
			resps, err := adm.DeleteTopics(ctx, dlq...)
			if err == nil {
				err = resps.Error()
			}
			if err != nil {
				t.Errorf("cleanup: delete topics %v: %v", dlq, err)
			}
		}
	}
}

// waitPipeline registers an account through the writer and waits until both projections report it applied
// with no lag: the proof, before any scenario, that the relay and the projectors are connected.
func (s *system) waitPipeline(t *testing.T) {
	t.Helper()
	probe := newUser(t, s, "probe")
	probe.register(t, "Probe")
	testkit.Eventually(t, 2*time.Minute, "both projections applied the probe with no lag (projectors /metrics)", func() bool {
		m := servicetest.Get(t, s.projectors+"/metrics")
		if m.Code != 200 {
			return false
		}
		applied := map[string]float64{}
		lagLines := 0
		for _, line := range strings.Split(m.Body, "\n") {
			name, labels, value, ok := sample(line)
			switch {
			case !ok:
			case name == "projector_events_applied_total":
				applied[labels] = value
			case name == "projector_lag":
				lagLines++
				if value != 0 {
					return false
				}
			}
		}
		return lagLines > 0 &&
			applied[fmt.Sprintf(`projector=%q`, s.viewsName)] >= 1 && applied[fmt.Sprintf(`projector=%q`, s.searchName)] >= 1
	})
}

// sample splits a Prometheus text line `name{labels} value` into its parts; ok is false for comments and
// lines that do not parse.
func sample(line string) (name, labels string, value float64, ok bool) {
	if line == "" || strings.HasPrefix(line, "#") {
		return "", "", 0, false
	}
	metric, v, found := strings.Cut(line, " ")
	if !found {
		return "", "", 0, false
	}
	value, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return "", "", 0, false
	}
	name, labels, _ = strings.Cut(metric, "{")
	return name, strings.TrimSuffix(labels, "}"), value, true
}

// with returns the union of maps, later ones winning.
func with(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
