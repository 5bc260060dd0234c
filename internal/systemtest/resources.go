package systemtest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/cqrses-aws/pipeline/internal/eventstore/eventstoretest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

// newResources creates the journal tables, the snapshot bucket and the event topics under unique names, and
// registers the removal of everything the services create under them: the relay's lease table, the views'
// schemas, the search indices, the consumer groups and the dead-letter topics. Registered before the processes
// start, this removal runs after the processes stopped. It returns a System holding the names only.
func newResources(tb testing.TB, opts Options) *System {
	tb.Helper()
	journal := eventstoretest.NewDynamoDBFixture(tb, nil)
	unique := strings.ReplaceAll(testkit.UniqueName(tb, opts.Name), "-", "_")
	s := &System{
		TablePrefix: strings.TrimSuffix(journal.Tables.Journal, "-journal"), Bucket: journal.Bucket,
		TopicPrefix: testkit.EventTopics(tb, opts.Partitions), Views: "v" + unique, Search: "s" + unique,
	}
	s.LeaseTable = s.TablePrefix + "-relay-leases"
	tb.Cleanup(func() { s.removeAll(tb) })
	return s
}

// removeAll removes what the services made under s's names (the journal tables, bucket and event topics are
// eventstoretest's and testkit's to remove); every failure is reported, none stops the others.
func (s *System) removeAll(tb testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st := testkit.MustStack(tb)

	testkit.DeleteTables(ctx, tb, testkit.AWS(tb).DynamoDB, s.LeaseTable)

	if conn, err := pgx.Connect(ctx, st.Postgres.URL.Reveal()); err != nil {
		tb.Errorf("cleanup: connect to postgres: %v", err)
	} else {
		defer conn.Close(ctx)
		rows, _ := conn.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname = $1 OR starts_with(nspname, $1 || '_v')
			ORDER BY length(nspname)`, s.Views)
		schemas, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			tb.Errorf("cleanup: list schemas of %s: %v", s.Views, err)
		}
		for _, name := range schemas {
			if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
				tb.Errorf("cleanup: drop schema %s: %v", name, err)
			}
		}
	}

	req := opensearchapi.IndicesDeleteReq{Indices: []string{s.Search + "_v*"}}
	if _, err := testkit.OpenSearch(tb).Indices.Delete(ctx, req); err != nil {
		tb.Errorf("cleanup: delete indices %s_v*: %v", s.Search, err)
	}

	adm := kadm.NewClient(testkit.KafkaClient(tb))
	s.removeGroups(ctx, tb, adm)
	s.removeDeadLetterTopics(ctx, tb, adm)
}

// removeGroups deletes the projections' consumer groups, every version's.
func (s *System) removeGroups(ctx context.Context, tb testing.TB, adm *kadm.Client) {
	groups, err := adm.ListGroups(ctx)
	if err != nil {
		tb.Errorf("cleanup: list consumer groups: %v", err)
		return
	}
	var ours []string
	for _, g := range groups.Groups() {
		if strings.HasPrefix(g, s.Views+".v") || strings.HasPrefix(g, s.Search+".v") {
			ours = append(ours, g)
		}
	}
	if len(ours) == 0 {
		return
	}
	resps, err := adm.DeleteGroups(ctx, ours...)
	for _, r := range resps {
		err = errors.Join(err, r.Err)
	}
	if err != nil {
		tb.Errorf("cleanup: delete consumer groups %v: %v", ours, err)
	}
}

// removeDeadLetterTopics deletes the dead-letter topics the projectors made; the event topics are testkit's.
func (s *System) removeDeadLetterTopics(ctx context.Context, tb testing.TB, adm *kadm.Client) {
	topics, err := adm.ListTopics(ctx)
	if err != nil {
		tb.Errorf("cleanup: list topics: %v", err)
		return
	}
	var dlq []string
	for _, name := range topics.Names() {
		if strings.HasPrefix(name, s.TopicPrefix+".") && strings.HasSuffix(name, ".dlq") {
			dlq = append(dlq, name)
		}
	}
	if len(dlq) == 0 {
		return
	}
	resps, err := adm.DeleteTopics(ctx, dlq...)
	if err == nil {
		err = resps.Error()
	}
	if err != nil {
		tb.Errorf("cleanup: delete topics %v: %v", dlq, err)
	}
}
