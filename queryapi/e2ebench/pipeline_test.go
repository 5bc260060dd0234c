// Package e2ebench measures the whole pipeline (writer → DynamoDB stream → relay → Kafka → projectors → query
// API), each service its own process on the local stack: how long after a command's response its write is
// visible through the query API. It holds benchmarks only; `go test` without -bench runs nothing here.
package e2ebench

import (
	"context"
	"errors"
	"net/http"
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
	"github.com/cqrses-aws/pipeline/projectors/projection"
)

// TestMain runs the benchmarks, then deletes the service binaries they built.
func TestMain(m *testing.M) {
	code := m.Run()
	servicetest.RemoveBinaries()
	os.Exit(code)
}

const (
	// secret signs the benchmark callers' tokens; the writer and the query API share it.
	secret = "e2ebench-secret-0123456789abcdef"
	// partitions is the event topics' partition count: the services' default.
	partitions = 12
	// consistencyTimeout is how long the query API waits for a consistency token: an answer stale after it
	// means the write was not visible in time.
	consistencyTimeout = 10 * time.Second
)

// pipeline is the four services running as processes on names of this run only.
type pipeline struct {
	writer, relay, projectors, query string // base URLs
	topicPrefix, views, search       string
	client                           *http.Client
}

// startPipeline creates this run's journal tables, snapshot bucket and event topics, starts writer, relay,
// projectors and query API as processes (the services' defaults, but info logs, a rate limit the benchmark never
// reaches and QUERYAPI_CONSISTENCY_TIMEOUT=10s), and waits until each answers /readyz. When the benchmark ends
// the processes stop first, then everything they created is removed.
func startPipeline(b *testing.B) *pipeline {
	b.Helper()
	start := time.Now()
	bins := map[string]string{}
	for _, svc := range []string{"writer", "relay", "projectors", "queryapi"} {
		bins[svc] = servicetest.Binary(b, "../../"+svc)
	}
	b.Logf("built the four services in %s", time.Since(start).Round(time.Millisecond))

	journal := eventstoretest.NewDynamoDBFixture(b, nil)
	tablePrefix := strings.TrimSuffix(journal.Tables.Journal, "-journal")
	unique := strings.ReplaceAll(testkit.UniqueName(b, "eb"), "-", "_")
	p := &pipeline{
		topicPrefix: testkit.EventTopics(b, partitions), views: "v" + unique, search: "s" + unique,
		client: &http.Client{Timeout: consistencyTimeout + 20*time.Second, Transport: &http.Transport{
			MaxIdleConns: 1024, MaxIdleConnsPerHost: 512, DisableCompression: true,
		}},
	}
	b.Cleanup(p.client.CloseIdleConnections)
	leaseTable := tablePrefix + "-relay-leases"
	// Registered before the processes start, so it runs after they stopped.
	b.Cleanup(func() { p.removeAll(b, leaseTable) })

	common := map[string]string{"LOG_LEVEL": "info", "DYNAMODB_TABLE_PREFIX": tablePrefix,
		"KAFKA_TOPIC_PREFIX": p.topicPrefix, "KAFKA_TOPIC_PARTITIONS": strconv.Itoa(partitions)}
	rate := map[string]string{"RATE_LIMIT_RPS": "100000", "RATE_LIMIT_BURST": "100000"}
	views := map[string]string{"PROJECTORS_VIEWS_NAME": p.views, "PROJECTORS_SEARCH_NAME": p.search}
	writer := servicetest.StartProcess(b, bins["writer"], "writer", nil, merge(common, rate, map[string]string{
		"SNAPSHOT_BUCKET": journal.Bucket, "DYNAMODB_CREATE_TABLES": "true", "AUTH_HS256_SECRET": secret,
	}))
	relay := servicetest.StartProcess(b, bins["relay"], "relay", nil, merge(common, map[string]string{
		"RELAY_LEASE_TABLE": leaseTable, "DYNAMODB_CREATE_TABLES": "true",
	}))
	projectors := servicetest.StartProcess(b, bins["projectors"], "projectors", []string{"run"}, merge(common, views, map[string]string{
		"SNAPSHOT_BUCKET": journal.Bucket,
	}))
	query := servicetest.StartProcess(b, bins["queryapi"], "queryapi", nil, merge(rate, views, map[string]string{
		"LOG_LEVEL": "info", "AUTH_HS256_SECRET": secret, "QUERYAPI_CONSISTENCY_TIMEOUT": consistencyTimeout.String(),
		"QUERYAPI_CURSOR_SECRET": "e2ebench-cursor-secret-0123456789",
	}))
	p.writer, p.relay = "http://"+writer.Addr(b), "http://"+relay.Addr(b)
	p.projectors, p.query = "http://"+projectors.Addr(b), "http://"+query.Addr(b)
	for _, base := range []string{p.writer, p.relay, p.projectors, p.query} {
		testkit.Eventually(b, time.Minute, base+" answers /readyz with 200", func() bool {
			resp, report := servicetest.Readiness(b, base)
			return resp.Code == http.StatusOK && report.Status == "ok"
		})
	}
	b.Logf("four services ready in %s: topics %s.*, views %s, search %s", time.Since(start).Round(time.Millisecond),
		p.topicPrefix, p.views, p.search)
	return p
}

// removeAll removes what the services created under this run's names: the relay's lease table, the views'
// schemas, the search indices, the projectors' consumer groups and dead-letter topics. (The journal tables,
// bucket and event topics are testkit's and eventstoretest's to remove.) Every failure is reported; none stops
// the others.
func (p *pipeline) removeAll(b *testing.B, leaseTable string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := testkit.MustStack(b)
	var notFound *types.ResourceNotFoundException
	if _, err := testkit.AWS(b).DynamoDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(leaseTable)}); err != nil && !errors.As(err, &notFound) {
		b.Errorf("cleanup: delete lease table %s: %v", leaseTable, err)
	}
	if conn, err := pgx.Connect(ctx, st.Postgres.URL.Reveal()); err != nil {
		b.Errorf("cleanup: connect to postgres: %v", err)
	} else {
		defer conn.Close(ctx)
		rows, _ := conn.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname = $1 OR starts_with(nspname, $1 || '_v')
			ORDER BY length(nspname)`, p.views)
		schemas, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			b.Errorf("cleanup: list the schemas of %s: %v", p.views, err)
		}
		for _, s := range schemas {
			if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{s}.Sanitize()+" CASCADE"); err != nil {
				b.Errorf("cleanup: drop schema %s: %v", s, err)
			}
		}
	}
	if _, err := testkit.OpenSearch(b).Indices.Delete(ctx, opensearchapi.IndicesDeleteReq{Indices: []string{p.search + "_v*"}}); err != nil {
		b.Errorf("cleanup: delete indices %s_v*: %v", p.search, err)
	}
	adm := kadm.NewClient(testkit.KafkaClient(b))
	var groups []string
	for _, name := range []string{p.views, p.search} {
		groups = append(groups, projection.GroupID(name, 1))
	}
	if resps, err := adm.DeleteGroups(ctx, groups...); err != nil {
		b.Errorf("cleanup: delete consumer groups %v: %v", groups, err)
	} else {
		for _, r := range resps {
			if r.Err != nil && !strings.Contains(r.Err.Error(), "GROUP_ID_NOT_FOUND") {
				b.Errorf("cleanup: delete consumer group %s: %v", r.Group, r.Err)
			}
		}
	}
	dlq := []string{projection.DLQTopic(p.topicPrefix, p.views), projection.DLQTopic(p.topicPrefix, p.search)}
	if topics, err := adm.ListTopics(ctx, dlq...); err != nil {
		b.Errorf("cleanup: list topics %v: %v", dlq, err)
	} else if names := topics.Names(); len(names) > 0 {
		if _, err := adm.DeleteTopics(ctx, names...); err != nil {
			b.Errorf("cleanup: delete topics %v: %v", names, err)
		}
	}
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
