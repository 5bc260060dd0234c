package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/eventgen"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/readmodel"
	"github.com/cqrses-aws/pipeline/projectors/search"
	"github.com/cqrses-aws/pipeline/projectors/supervisor"
	"github.com/cqrses-aws/pipeline/projectors/views"
	"github.com/cqrses-aws/pipeline/schemas"
)

// harness is one test's pipeline downstream of Kafka: its own event topics, view schemas, search indices and
// consumer groups, the events it produced, and the projections to read the models back.
type harness struct {
	t      *testing.T
	cfg    Config
	pool   *pgxpool.Pool
	search search.Client
	views  *views.Projection
	index  *search.Projection
	sup    *supervisor.Supervisor
	gen    *eventgen.Generator

	mu       sync.Mutex
	produced []schemas.Envelope
}

// newHarness makes the topics (partitions each) and unique names, and cleans every target, group and topic up
// when the test ends.
func newHarness(t *testing.T, partitions int32) *harness {
	t.Helper()
	st := testkit.MustStack(t)
	unique := strings.ReplaceAll(testkit.UniqueName(t, "p"), "-", "_")
	cfg := Config{HTTP: servicetest.HTTP(), Log: servicetest.Log(), AWS: st.AWS, Kafka: st.Kafka,
		Postgres: st.Postgres, Search: st.Search}
	cfg.Kafka.TopicPrefix = testkit.EventTopics(t, partitions)
	cfg.Projectors = ProjectorsConfig{BatchSize: 1000, Partitions: partitions, PollInterval: 200 * time.Millisecond,
		DrainTimeout: 30 * time.Second, SessionTimeout: 10 * time.Second, TablePrefix: "none", SnapshotBucket: "none",
		ViewsName: "v" + unique, SearchName: "s" + unique}
	h := &harness{t: t, cfg: cfg, gen: eventgen.New(eventgen.Config{Seed: time.Now().UnixNano(), Accounts: 200, Rooms: 40})}
	ctx := context.Background()
	var err error
	if h.pool, err = pgxpool.New(ctx, st.Postgres.URL.Reveal()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.pool.Close)
	h.search = search.NewOpenSearchClient(testkit.OpenSearch(t))
	if h.views, err = views.New(h.pool, views.Config{Name: cfg.Projectors.ViewsName}); err != nil {
		t.Fatal(err)
	}
	if h.index, err = search.New(h.search, search.Config{Name: cfg.Projectors.SearchName}); err != nil {
		t.Fatal(err)
	}
	h.sup = h.supervisor()
	t.Cleanup(func() { h.cleanup() })
	return h
}

// supervisor returns a supervisor on the harness's configuration with a journal-less runner (the journal has no
// gaps to fill here: every event is in Kafka).
func (h *harness) supervisor() *supervisor.Supervisor {
	h.t.Helper()
	d := &deps{}
	sup, err := d.supervisor(h.cfg, nil, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(sup.Close)
	return sup
}

// projections returns the harness's projections.
func (h *harness) projections() []projection.Projection {
	return []projection.Projection{h.views, h.index}
}

// cleanup drops every version of both projections (the live one too), the stable views schema, the consumer
// groups and the dead-letter topics.
func (h *harness) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	adm := kadm.NewClient(testkit.KafkaClient(h.t))
	for _, p := range h.projections() {
		versions, err := p.Versions(ctx)
		if err != nil {
			h.t.Errorf("cleanup: versions of %s: %v", p.Name(), err)
		}
		for _, v := range versions {
			_, _ = adm.DeleteGroups(ctx, projection.GroupID(p.Name(), v))
			target := projection.TargetName(p.Name(), v)
			if p == projection.Projection(h.views) {
				_, err = h.pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+target+" CASCADE")
			} else {
				err = h.search.DeleteIndex(ctx, target)
			}
			if err != nil {
				h.t.Errorf("cleanup: drop %s: %v", target, err)
			}
		}
		_, _ = adm.DeleteTopics(ctx, projection.DLQTopic(h.cfg.Kafka.TopicPrefix, p.Name()))
	}
	if _, err := h.pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+h.views.Name()+" CASCADE"); err != nil {
		h.t.Errorf("cleanup: drop the stable views schema: %v", err)
	}
}

// produce generates n events, writes them to Kafka and remembers them.
func (h *harness) produce(n int) []schemas.Envelope {
	h.t.Helper()
	h.mu.Lock()
	events := h.gen.Events(n)
	h.produced = append(h.produced, events...)
	h.mu.Unlock()
	h.write(events)
	return events
}

// produceOf generates the next event of type eventType, writes it to Kafka and remembers it; false when the
// generator's state allows none now.
func (h *harness) produceOf(eventType string) (schemas.Envelope, bool) {
	h.t.Helper()
	h.mu.Lock()
	ev, ok := h.gen.NextOf(eventType)
	if ok {
		h.produced = append(h.produced, ev)
	}
	h.mu.Unlock()
	if ok {
		h.write([]schemas.Envelope{ev})
	}
	return ev, ok
}

// write writes events to Kafka as they are (duplicates included).
func (h *harness) write(events []schemas.Envelope) {
	h.t.Helper()
	cl := testkit.KafkaClient(h.t, kgo.ProducerLinger(5*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := eventgen.Produce(ctx, cl, h.cfg.Kafka.TopicPrefix, events); err != nil {
		h.t.Fatalf("produce %d events: %v", len(events), err)
	}
}

// expected folds every produced event into the reference model.
func (h *harness) expected() *readmodel.Model {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	m := readmodel.New()
	for _, e := range h.produced {
		if err := m.Apply(e); err != nil {
			h.t.Fatalf("fold %s %s@%d: %v", e.Type, e.AggregateID, e.Seq, err)
		}
	}
	return m
}

// start runs `projectors run` in this process for the named projections (all when none).
func (h *harness) start(only ...string) *servicetest.Running {
	h.t.Helper()
	m, err := NewMainOnly(context.Background(), h.cfg, servicetest.NewLogs(h.t), only)
	if err != nil {
		h.t.Fatalf("NewMain: %v", err)
	}
	return servicetest.Start(h.t, m)
}

// caughtUp reports whether p has a live version with no lag on any partition.
func (h *harness) caughtUp(p projection.Projection) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := h.sup.Status(ctx, p)
	if err != nil || st.Live == 0 {
		return false
	}
	for _, v := range st.Versions {
		if v.Version != st.Live {
			continue
		}
		for _, l := range v.Lags {
			if l.Lag() > 0 {
				return false
			}
		}
		return true
	}
	return false
}

// waitCaughtUp waits until every projection of ps is caught up.
func (h *harness) waitCaughtUp(deadline time.Duration, ps ...projection.Projection) {
	h.t.Helper()
	for _, p := range ps {
		testkit.Eventually(h.t, deadline, p.Name()+" caught up", func() bool { return h.caughtUp(p) })
	}
}

// viewsModel reads the live views back.
func (h *harness) viewsModel() *readmodel.Model {
	h.t.Helper()
	ctx := context.Background()
	live, ok, err := h.views.Live(ctx)
	if err != nil || !ok {
		h.t.Fatalf("views live version: %v %v", ok, err)
	}
	m, err := views.Dump(ctx, h.pool, h.views.Name(), live)
	if err != nil {
		h.t.Fatalf("dump views: %v", err)
	}
	return m
}

// searchModel reads the documents behind the live search alias back (messages only).
func (h *harness) searchModel() *readmodel.Model {
	h.t.Helper()
	m, err := search.Dump(context.Background(), h.search, h.index.Name())
	if err != nil {
		h.t.Fatalf("dump search: %v", err)
	}
	return messagesOnly(m)
}

// messagesOnly keeps the messages of m: what the search index holds for the query API.
func messagesOnly(m *readmodel.Model) *readmodel.Model {
	out := readmodel.New()
	for id, msg := range m.Messages {
		out.Messages[id] = msg
	}
	return out
}

// checkModels compares both live models with the fold of every produced event.
func (h *harness) checkModels(when string) {
	h.t.Helper()
	want := h.expected()
	h.t.Logf("%s: the fold holds %d accounts, %d rooms, %d messages", when, len(want.Accounts), len(want.Rooms), len(want.Messages))
	if diff := want.Diff(h.viewsModel()); len(diff) > 0 {
		h.t.Errorf("%s: views differ from the fold of the journal:\n%s", when, strings.Join(diff, "\n"))
	}
	if diff := messagesOnly(want).Diff(h.searchModel()); len(diff) > 0 {
		h.t.Errorf("%s: search differs from the fold of the journal:\n%s", when, strings.Join(diff, "\n"))
	}
}

// countMessages counts the message documents behind the live search alias.
func (h *harness) countMessages(ctx context.Context) (int, error) {
	body, err := h.search.Search(ctx, h.index.Name(), []byte(`{"size":0,"track_total_hits":true,"query":{"term":{"kind":"message"}}}`))
	if err != nil {
		return 0, err
	}
	var answer struct {
		Hits struct {
			Total struct{ Value int } `json:"total"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return 0, fmt.Errorf("decode search answer: %w", err)
	}
	return answer.Hits.Total.Value, nil
}
