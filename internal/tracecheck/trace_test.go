// Package tracecheck_test checks that one command is one trace across the pipeline's asynchronous hops: the
// writer's HTTP request and journal append, the relay's Kafka publish and the projector's apply, all wired in
// this process on the local stack's real servers, with spans recorded in memory.
//
// It is a package of its own because tracing is process-wide: installing a provider here does not change the
// records other packages' tests compare.
package tracecheck_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kadm"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/eventstore/eventstoretest"
	"github.com/cqrses-aws/pipeline/internal/platform/auth"
	"github.com/cqrses-aws/pipeline/internal/platform/auth/authtest"
	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/metrics"
	"github.com/cqrses-aws/pipeline/internal/platform/service/ginapp"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/internal/platform/tracing"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/runner"
	"github.com/cqrses-aws/pipeline/projectors/views"
	"github.com/cqrses-aws/pipeline/relay/forward"
	"github.com/cqrses-aws/pipeline/relay/lease/leasetest"
	"github.com/cqrses-aws/pipeline/relay/stream"
	"github.com/cqrses-aws/pipeline/writer/adapters"
	"github.com/cqrses-aws/pipeline/writer/app"
	"github.com/cqrses-aws/pipeline/writer/domain"
	"github.com/cqrses-aws/pipeline/writer/ports"
)

const secret = "tracecheck-secret-0123456789abcdef"

// clientTraceParent is the trace context a client sends with the second command: its trace must be continued.
const clientTraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// TestOneCommandIsOneTrace sends two commands to the writer, one without trace context and one with a client's
// traceparent, and waits until the projector applied both events. Each command must be exactly one trace
// (the second one the client's) holding, in a chain of parents: the writer's server span, its journal append
// span, the relay's publish span and the projector's apply span, each in its service's tracer. The journal
// keeps the append span's context with the event.
func TestOneCommandIsOneTrace(t *testing.T) {
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	t.Cleanup(tracing.Install(tp))

	p := newPipeline(t)
	alice, bob := testkit.UniqueName(t, "alice"), testkit.UniqueName(t, "bob")
	p.register(alice, "")
	p.register(bob, clientTraceParent)

	// The relay's publish span ends when the broker acknowledges, which may come after the projector has
	// already consumed the record: wait for both ends of the chain.
	testkit.Eventually(t, 2*time.Minute, "the relay published and the projector applied both events", func() bool {
		spans := exporter.GetSpans()
		return len(spansNamed(spans, tracing.ScopeProjectors, "apply "+p.projector)) >= 2 &&
			len(spansNamed(spans, tracing.ScopeRelay, "send "+p.prefix+".account.events")) >= 2
	})
	spans := exporter.GetSpans()
	traces := map[trace.TraceID][]tracetest.SpanStub{}
	for _, s := range spans {
		traces[s.SpanContext.TraceID()] = append(traces[s.SpanContext.TraceID()], s)
	}
	if len(traces) != 2 {
		t.Fatalf("%d traces recorded, want 2 (one per command):\n%s", len(traces), describe(spans))
	}

	for _, c := range []struct {
		account, clientTraceParent string
	}{{alice, ""}, {bob, clientTraceParent}} {
		t.Run(c.account, func(t *testing.T) {
			journal := p.journal(c.account)
			if len(journal) != 1 {
				t.Fatalf("journal of %s holds %d events, want 1", c.account, len(journal))
			}
			stored, ok := tracing.Parse(journal[0].TraceParent)
			if !ok {
				t.Fatalf("event stored with traceparent %q, want a valid one", journal[0].TraceParent)
			}
			chain := traces[stored.TraceID()]
			if len(chain) != 4 {
				t.Fatalf("trace %s holds %d spans, want 4:\n%s", stored.TraceID(), len(chain), describe(chain))
			}
			server := only(t, chain, tracing.ScopeWriter, "POST /v1/accounts", trace.SpanKindServer)
			appendSpan := only(t, chain, tracing.ScopeWriter, "journal append", trace.SpanKindClient)
			publish := only(t, chain, tracing.ScopeRelay, "send "+p.prefix+".account.events", trace.SpanKindProducer)
			apply := only(t, chain, tracing.ScopeProjectors, "apply "+p.projector, trace.SpanKindConsumer)

			if c.clientTraceParent == "" {
				if server.Parent.IsValid() {
					t.Errorf("server span has parent %v, want none: the trace starts at the request", server.Parent)
				}
			} else {
				client, _ := tracing.Parse(c.clientTraceParent)
				if server.Parent.TraceID() != client.TraceID() || server.Parent.SpanID() != client.SpanID() || !server.Parent.IsRemote() {
					t.Errorf("server span's parent = %v, want the client's remote span %v", server.Parent, client)
				}
			}
			parentOf(t, appendSpan, server)
			parentOf(t, publish, appendSpan)
			parentOf(t, apply, publish)
			if stored.SpanID() != appendSpan.SpanContext.SpanID() {
				t.Errorf("event stored with span %s, want the append span %s", stored.SpanID(), appendSpan.SpanContext.SpanID())
			}
			for _, want := range []attribute.KeyValue{
				tracing.AttrAggregateID.String(c.account), tracing.AttrAggregateType.String("account"),
				tracing.AttrSeqFirst.Int64(1), tracing.AttrSeqLast.Int64(1), tracing.AttrEventCount.Int(1),
			} {
				hasAttr(t, appendSpan, want)
			}
			hasAttr(t, publish, tracing.AttrEventType.String("AccountRegistered"))
			for _, want := range []attribute.KeyValue{
				tracing.AttrProjector.String(p.projector), tracing.AttrProjectorVersion.Int(1),
				tracing.AttrEventType.String("AccountRegistered"), tracing.AttrSeq.Int64(1),
				attribute.String("messaging.destination.name", p.prefix+".account.events"),
			} {
				hasAttr(t, apply, want)
			}
			if !apply.EndTime.After(publish.EndTime) || publish.EndTime.Before(appendSpan.EndTime) {
				t.Errorf("spans end out of order: append %v, publish %v, apply %v",
					appendSpan.EndTime, publish.EndTime, apply.EndTime)
			}
		})
	}

	model, err := views.Dump(context.Background(), p.pool, p.projector, 1)
	if err != nil {
		t.Fatalf("dump the views: %v", err)
	}
	for _, id := range []string{alice, bob} {
		if _, ok := model.Accounts[id]; !ok {
			t.Errorf("views lack account %s after its apply span ended", id)
		}
	}
}

// pipeline is the writer, the relay and a views projector wired in this process on one journal and one topic
// prefix of their own.
type pipeline struct {
	t         *testing.T
	writer    *httptest.Server
	store     eventstore.Store
	prefix    string
	projector string
	pool      *pgxpool.Pool
}

func newPipeline(t *testing.T) *pipeline {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	journal := eventstoretest.NewDynamoDBFixture(t, func(c *eventstore.DynamoDBConfig) { c.Now = time.Now })
	p := &pipeline{t: t, store: journal.Store, prefix: testkit.EventTopics(t, 1)}

	// The writer: its HTTP API on the journal, as writer.NewMain wires it.
	repo := adapters.RepositoryConfig{Store: adapters.TracedStore{Store: journal.Store}}
	rooms, err := adapters.NewEventRepository[*domain.Room, domain.RoomID](adapters.RoomKind, repo)
	if err != nil {
		t.Fatal(err)
	}
	accounts, err := adapters.NewEventRepository[*domain.Account, domain.AccountID](adapters.AccountKind, repo)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier(context.Background(), auth.Config{HS256Secret: config.Secret(secret), Leeway: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	httpMetrics, err := metrics.NewHTTPMetrics(metrics.NewRegistry("writer"))
	if err != nil {
		t.Fatal(err)
	}
	engine := ginapp.New(log, httpMetrics, ginapp.WithTracerName(tracing.ScopeWriter))
	ports.NewHTTPServer(app.New(rooms, accounts, adapters.MessagesEventstoreReader{Store: journal.Store}, adapters.ULIDs{}),
		adapters.IdempotencyEventstoreLookup{Store: journal.Store}, log).
		Register(engine, auth.Middleware(verifier))
	p.writer = httptest.NewServer(engine)
	t.Cleanup(p.writer.Close)

	// The relay: the journal's stream to the event topics.
	relayMetrics, err := forward.NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	relay, err := forward.New(forward.Config{
		Table: journal.Tables.Journal, TopicPrefix: p.prefix, LeaseTTL: 3 * time.Second,
		ScanEvery: 200 * time.Millisecond, IdleWait: 20 * time.Millisecond, ShutdownGrace: 5 * time.Second,
	}, stream.NewDynamoDB(journal.AWS.DynamoDB, journal.AWS.Streams), leasetest.Table(t),
		forward.KafkaPublisher{Client: testkit.KafkaClient(t, forward.ProducerOpts()...)}, relayMetrics, log)
	if err != nil {
		t.Fatal(err)
	}
	background(t, "relay", relay.Run)

	// The projector: the views read model in a Postgres schema of its own.
	p.projector = strings.ReplaceAll(testkit.UniqueName(t, "views"), "-", "_")
	p.pool = postgresPool(t)
	t.Cleanup(func() { dropSchemas(t, p.pool, p.projector) })
	proj, err := views.New(p.pool, views.Config{Name: p.projector})
	if err != nil {
		t.Fatal(err)
	}
	target, err := proj.Open(context.Background(), 1)
	if err != nil {
		t.Fatalf("open the views: %v", err)
	}
	kafkaCfg := testkit.MustStack(t).Kafka
	kafkaCfg.TopicPrefix = p.prefix
	run, err := runner.New(runner.Config{
		Kafka: kafkaCfg, Name: p.projector, Version: 1, Logger: log,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
	}, target)
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(testkit.KafkaClient(t))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = adm.DeleteTopics(ctx, projection.DLQTopic(p.prefix, p.projector))
		_, _ = adm.DeleteGroups(ctx, projection.GroupID(p.projector, 1))
	})
	background(t, "projector", run.Run)
	return p
}

// register sends RegisterAccount as account, with traceparent as the header when it is not empty.
func (p *pipeline) register(account, traceparent string) {
	p.t.Helper()
	req, err := http.NewRequest(http.MethodPost, p.writer.URL+"/v1/accounts", strings.NewReader(`{"name":"Traced"}`))
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+authtest.MintHS256(p.t, secret, account, time.Hour))
	if traceparent != "" {
		req.Header.Set(tracing.HeaderTraceParent, traceparent)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("register %s: %v", account, err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		p.t.Fatalf("register %s: %d %s", account, resp.StatusCode, body)
	}
}

// journal returns the events stored for aggregate id.
func (p *pipeline) journal(id string) []eventstore.Record {
	p.t.Helper()
	recs, err := p.store.Load(context.Background(), id, 0)
	if err != nil {
		p.t.Fatalf("load %s: %v", id, err)
	}
	return recs
}

// background runs fn until the test ends, then cancels it and waits for it; an error other than the
// cancellation fails the test.
func background(t *testing.T, name string, fn func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("%s: %v", name, err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("%s did not stop within 30s", name)
		}
	})
}

// postgresPool returns a pool on the stack's database, closed when the test ends.
func postgresPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), testkit.MustStack(t).Postgres.URL.Reveal())
	if err != nil {
		t.Fatalf("postgres pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// dropSchemas drops the views' schemas: the stable one and every version's.
func dropSchemas(t *testing.T, pool *pgxpool.Pool, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, _ := pool.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname = $1 OR starts_with(nspname, $1 || '_v')`, name)
	schemas, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Errorf("list schemas of %s: %v", name, err)
		return
	}
	for _, s := range schemas {
		if _, err := pool.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{s}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", s, err)
		}
	}
}

// spansNamed returns the spans of scope named name.
func spansNamed(spans tracetest.SpanStubs, scope, name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range spans {
		if s.InstrumentationScope.Name == scope && s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// only returns the one span of scope named name in spans, failing the test unless there is exactly one and it
// has the kind.
func only(t *testing.T, spans []tracetest.SpanStub, scope, name string, kind trace.SpanKind) tracetest.SpanStub {
	t.Helper()
	got := spansNamed(spans, scope, name)
	if len(got) != 1 {
		t.Fatalf("%d spans %q of %s, want 1:\n%s", len(got), name, scope, describe(spans))
	}
	if got[0].SpanKind != kind {
		t.Errorf("span %q is of kind %v, want %v", name, got[0].SpanKind, kind)
	}
	return got[0]
}

// parentOf fails the test unless parent is child's parent.
func parentOf(t *testing.T, child, parent tracetest.SpanStub) {
	t.Helper()
	if child.Parent.SpanID() != parent.SpanContext.SpanID() || child.Parent.TraceID() != parent.SpanContext.TraceID() {
		t.Errorf("parent of %q is span %s, want %q (%s)", child.Name, child.Parent.SpanID(), parent.Name, parent.SpanContext.SpanID())
	}
}

// hasAttr fails the test unless the span has the attribute with the value.
func hasAttr(t *testing.T, s tracetest.SpanStub, want attribute.KeyValue) {
	t.Helper()
	for _, a := range s.Attributes {
		if a.Key == want.Key {
			if a.Value != want.Value {
				t.Errorf("span %q: %s = %v, want %v", s.Name, a.Key, a.Value.String(), want.Value.String())
			}
			return
		}
	}
	t.Errorf("span %q lacks attribute %s", s.Name, want.Key)
}

// describe lists spans for a failure message: scope, name, trace, span and parent.
func describe(spans []tracetest.SpanStub) string {
	var b strings.Builder
	for _, s := range spans {
		b.WriteString("  " + s.InstrumentationScope.Name + " " + s.Name + " trace=" + s.SpanContext.TraceID().String() +
			" span=" + s.SpanContext.SpanID().String() + " parent=" + s.Parent.SpanID().String() + "\n")
	}
	return b.String()
}
