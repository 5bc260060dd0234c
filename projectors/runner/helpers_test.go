package runner_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/runner"
	"github.com/cqrses-aws/pipeline/schemas"
)

// memTarget is a small in-memory target: what each aggregate got applied, its state, and stored offsets.
type memTarget struct {
	mu          sync.Mutex
	storeOffset bool
	applied     map[string][]int64
	states      map[string]projection.State
	offsets     projection.Offsets
	// failCommits makes the next n commits fail (a server down).
	failCommits int
	// applying, when set, receives each Apply's size and the Apply waits for a reply on release.
	applying chan int
	release  chan struct{}
	// refuse, when set, says which events can never apply (Apply answers a projection.PermanentError).
	refuse func(projection.Event) error
}

func newMemTarget(storeOffsets bool) *memTarget {
	return &memTarget{storeOffset: storeOffsets, applied: map[string][]int64{}, states: map[string]projection.State{},
		offsets: projection.Offsets{}}
}

func (m *memTarget) Offsets(context.Context) (projection.Offsets, error) {
	if !m.storeOffset {
		return nil, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := projection.Offsets{}
	for t, ps := range m.offsets {
		for p, n := range ps {
			out.Set(t, p, n)
		}
	}
	return out, nil
}

func (m *memTarget) Begin(context.Context) (projection.Tx, error) { return &memTx{m: m}, nil }
func (m *memTarget) Close() error                                 { return nil }

// snapshot returns a copy of what each aggregate got applied.
func (m *memTarget) snapshot() map[string][]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string][]int64, len(m.applied))
	for k, v := range m.applied {
		out[k] = append([]int64(nil), v...)
	}
	return out
}

func (m *memTarget) state(id string) projection.State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.states[id]
}

type memTx struct {
	m       *memTarget
	events  []projection.Event
	states  map[string]projection.State
	offsets projection.Offsets
}

func (t *memTx) States(_ context.Context, ids []string) (map[string]projection.State, error) {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	out := map[string]projection.State{}
	for _, id := range ids {
		out[id] = t.m.states[id]
	}
	return out, nil
}

func (t *memTx) Apply(ctx context.Context, events []projection.Event) error {
	if t.m.applying != nil {
		t.m.applying <- len(events)
		select {
		case <-t.m.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if t.m.refuse != nil {
		for _, ev := range events {
			if err := t.m.refuse(ev); err != nil {
				return fmt.Errorf("apply: %w", projection.Permanent(ev, err))
			}
		}
	}
	t.events = append(t.events, events...)
	return nil
}

func (t *memTx) Save(_ context.Context, states map[string]projection.State, next projection.Offsets) error {
	t.states, t.offsets = maps.Clone(states), next
	return nil
}

func (t *memTx) Commit(context.Context) error {
	t.m.mu.Lock()
	defer t.m.mu.Unlock()
	if t.m.failCommits > 0 {
		t.m.failCommits--
		return errors.New("injected: target unavailable")
	}
	for _, e := range t.events {
		t.m.applied[e.AggregateID] = append(t.m.applied[e.AggregateID], e.Seq)
	}
	maps.Copy(t.m.states, t.states)
	for topic, ps := range t.offsets {
		for p, n := range ps {
			t.m.offsets.Set(topic, p, n)
		}
	}
	return nil
}

func (t *memTx) Rollback(context.Context) error { return nil }

// renamed is AccountRegistered (seq 1) or AccountRenamed (later seqs) of account id.
func renamed(id string, seq int64) schemas.Envelope {
	typ := schemas.TypeAccountRenamed
	if seq == 1 {
		typ = schemas.TypeAccountRegistered
	}
	return schemas.Envelope{
		ID: fmt.Sprintf("evt-%s-%d", id, seq), Type: typ, Version: 1, AggregateType: schemas.AggregateTypeAccount,
		AggregateID: id, Seq: seq, OccurredAt: time.Date(2026, 11, 26, 0, 0, int(seq), 0, time.UTC),
		CorrelationID: "c", CausationID: "c", CommandID: "c",
		Payload: json.RawMessage(fmt.Sprintf(`{"name":"name %d"}`, seq)),
	}
}

// decodeNicknames is the decoding of a fixed projector: it reads "AccountNicknamed", the type the poison tests
// use for one the running code does not know, as a rename.
func decodeNicknames(env schemas.Envelope) (projection.Event, error) {
	if env.Type == "AccountNicknamed" {
		env.Type = schemas.TypeAccountRenamed
	}
	return runner.DecodeEnvelope(env)
}

// roomCreated is RoomCreated (seq 1) of room id.
func roomCreated(id string) schemas.Envelope {
	return schemas.Envelope{
		ID: "evt-" + id, Type: schemas.TypeRoomCreated, Version: 1, AggregateType: schemas.AggregateTypeRoom,
		AggregateID: id, Seq: 1, OccurredAt: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC),
		CorrelationID: "c", CausationID: "c", CommandID: "c",
		Payload: json.RawMessage(`{"name":"general","created_by":"someone"}`),
	}
}

// produce writes envs to the event topics of prefix.
func produce(t testing.TB, prefix string, envs ...schemas.Envelope) {
	t.Helper()
	enc := kafka.NewEventEncoder(prefix)
	recs := make([]*kgo.Record, 0, len(envs))
	for _, e := range envs {
		r, err := enc.Record(e)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		recs = append(recs, r)
	}
	produceRaw(t, recs...)
}

func produceRaw(t testing.TB, recs ...*kgo.Record) {
	t.Helper()
	cl := testkit.KafkaClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// history is accounts × perAccount events, interleaved.
func history(prefix string, accounts, perAccount int) []schemas.Envelope {
	var out []schemas.Envelope
	for s := 1; s <= perAccount; s++ {
		for a := range accounts {
			out = append(out, renamed(fmt.Sprintf("%s-acct-%d", prefix, a), int64(s)))
		}
	}
	return out
}

// start runs a runner of target in the background; the returned stop cancels it and returns Run's error.
func start(t testing.TB, cfg runner.Config, target projection.Target) (stop func() error) {
	t.Helper()
	r, err := runner.New(cfg, target)
	if err != nil {
		t.Fatalf("runner.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(time.Minute):
				runErr = errors.New("runner did not stop within a minute")
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// config is a runner configuration on prefix's topics with a unique projection name.
func config(t testing.TB, prefix string) runner.Config {
	t.Helper()
	kcfg := testkit.MustStack(t).Kafka
	kcfg.TopicPrefix = prefix
	cfg := runner.Config{Kafka: kcfg, Name: "p" + testkit.UniqueName(t, ""), Version: 1, BatchSize: 500,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
	adm := kadm.NewClient(testkit.KafkaClient(t))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = adm.DeleteTopics(ctx, projection.DLQTopic(prefix, cfg.Name))
		_, _ = adm.DeleteGroups(ctx, projection.GroupID(cfg.Name, cfg.Version))
	})
	return cfg
}

// complete reports whether every account of h got exactly 1..n applied once, in order.
func complete(applied map[string][]int64, prefix string, accounts, n int) error {
	for a := range accounts {
		id := fmt.Sprintf("%s-acct-%d", prefix, a)
		got := applied[id]
		if len(got) != n {
			return fmt.Errorf("%s: applied %v, want 1..%d", id, got, n)
		}
		for i, s := range got {
			if s != int64(i+1) {
				return fmt.Errorf("%s: applied %v, want 1..%d in order", id, got, n)
			}
		}
	}
	return nil
}
