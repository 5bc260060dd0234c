package views_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/projectiontest"
	"github.com/cqrses-aws/pipeline/projectors/readmodel"
	"github.com/cqrses-aws/pipeline/projectors/views"
	"github.com/cqrses-aws/pipeline/schemas"
)

// t0 is the time of a journal's first event; each next event is one millisecond later.
var t0 = time.Date(2025, 11, 20, 9, 0, 0, 0, time.UTC)

// testTimeout bounds every test's calls to Postgres.
const testTimeout = 60 * time.Second

func testContext(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	tb.Cleanup(cancel)
	return ctx
}

// newPool returns a pool on the stack's database, closed when the test ends.
func newPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	st := testkit.MustStack(tb)
	cfg, err := pgxpool.ParseConfig(st.Postgres.URL.Reveal())
	if err != nil {
		tb.Fatalf("parse POSTGRES_URL: %v", err)
	}
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("postgres pool: %v", err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// newProjection returns a projection under a unique name whose schemas ("<name>" and "<name>_v<N>") are dropped
// when the test ends.
func newProjection(tb testing.TB, pool *pgxpool.Pool) *views.Projection {
	tb.Helper()
	name := strings.ReplaceAll(testkit.UniqueName(tb, "views"), "-", "_")
	p, err := views.New(pool, views.Config{Name: name})
	if err != nil {
		tb.Fatalf("new projection: %v", err)
	}
	tb.Cleanup(func() { dropSchemas(tb, pool, name) })
	return p
}

func dropSchemas(tb testing.TB, pool *pgxpool.Pool, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	rows, _ := pool.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname = $1 OR starts_with(nspname, $1 || '_v')`, name)
	schemas, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		tb.Errorf("list schemas of %s: %v", name, err)
		return
	}
	for _, s := range schemas {
		if _, err := pool.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{s}.Sanitize()+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", s, err)
		}
	}
}

// open opens version of p, failing the test on error.
func open(tb testing.TB, p *views.Projection, version int) projection.Target {
	tb.Helper()
	target, err := p.Open(testContext(tb), version)
	if err != nil {
		tb.Fatalf("open version %d: %v", version, err)
	}
	return target
}

// journal numbers events the way the writer does (seq 1, 2, 3… per aggregate) and keeps the envelopes as
// published, for the reference fold.
type journal struct {
	tb     testing.TB
	seqs   map[string]int64
	events []schemas.Envelope
}

func newJournal(tb testing.TB) *journal { return &journal{tb: tb, seqs: map[string]int64{}} }

// add appends and returns the next event of aggregate id, decoded as the runner hands it over; a
// schemas.MemberAddedV1 payload is published as version 1 and arrives upcast.
func (j *journal) add(eventType, id string, payload any) projection.Event {
	j.tb.Helper()
	aggType, _ := schemas.AggregateTypeOf(eventType)
	version, _ := schemas.Current(eventType)
	if _, v1 := payload.(schemas.MemberAddedV1); v1 {
		version = 1
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		j.tb.Fatal(err)
	}
	j.seqs[id]++
	env := schemas.Envelope{
		ID: "evt", Type: eventType, Version: version, AggregateType: aggType, AggregateID: id, Seq: j.seqs[id],
		OccurredAt: t0.Add(time.Duration(len(j.events)) * time.Millisecond), Payload: raw,
	}
	j.events = append(j.events, env)
	return decoded(j.tb, env)
}

// decoded returns env as the runner hands it to a target: upcast, with its decoded payload.
func decoded(tb testing.TB, env schemas.Envelope) projection.Event {
	tb.Helper()
	payload, err := schemas.Decode(env)
	if err != nil {
		tb.Fatalf("decode %s: %v", env.Type, err)
	}
	up, err := schemas.Upcast(env)
	if err != nil {
		tb.Fatalf("upcast %s: %v", env.Type, err)
	}
	return projection.Event{Envelope: up, Payload: payload, Topic: "t." + up.AggregateType, Offset: int64(len(env.Payload))}
}

func (j *journal) register(id, name string) projection.Event {
	return j.add(schemas.TypeAccountRegistered, id, schemas.AccountRegisteredV1{Name: name})
}

func (j *journal) renameAccount(id, name string) projection.Event {
	return j.add(schemas.TypeAccountRenamed, id, schemas.AccountRenamedV1{Name: name})
}

func (j *journal) createRoom(id, name, by string) projection.Event {
	return j.add(schemas.TypeRoomCreated, id, schemas.RoomCreatedV1{Name: name, CreatedBy: by})
}

func (j *journal) renameRoom(id, name string) projection.Event {
	return j.add(schemas.TypeRoomRenamed, id, schemas.RoomRenamedV1{Name: name, RenamedBy: "x"})
}

func (j *journal) addMember(room, account string, role schemas.Role) projection.Event {
	return j.add(schemas.TypeMemberAdded, room, schemas.MemberAddedV2{AccountID: account, Role: role, AddedBy: "x"})
}

func (j *journal) addMemberV1(room, account string) projection.Event {
	return j.add(schemas.TypeMemberAdded, room, schemas.MemberAddedV1{AccountID: account, AddedBy: "x"})
}

func (j *journal) removeMember(room, account string) projection.Event {
	return j.add(schemas.TypeMemberRemoved, room, schemas.MemberRemovedV1{AccountID: account, RemovedBy: "x"})
}

func (j *journal) post(room, msg, author, text string) projection.Event {
	return j.add(schemas.TypeMessagePosted, room, schemas.MessagePostedV1{MessageID: msg, AuthorID: author, Text: text})
}

func (j *journal) edit(room, msg, text string) projection.Event {
	return j.add(schemas.TypeMessageEdited, room, schemas.MessageEditedV1{MessageID: msg, Text: text, EditedBy: "x"})
}

func (j *journal) deleteMessage(room, msg string) projection.Event {
	return j.add(schemas.TypeMessageDeleted, room, schemas.MessageDeletedV1{MessageID: msg, DeletedBy: "x"})
}

func (j *journal) deleteRoom(room string) projection.Event {
	return j.add(schemas.TypeRoomDeleted, room, schemas.RoomDeletedV1{DeletedBy: "x"})
}

// model returns the reference fold of every event the journal made.
func (j *journal) model() *readmodel.Model {
	j.tb.Helper()
	m := readmodel.New()
	for _, env := range j.events {
		if err := m.Apply(env); err != nil {
			j.tb.Fatalf("reference fold: %v", err)
		}
	}
	return m
}

// applyBatch runs one batch the way the runner does: States, Apply, Save (each aggregate's last seq, and the
// next offset after the batch's last event per topic), Commit.
func applyBatch(tb testing.TB, target projection.Target, events []projection.Event) {
	tb.Helper()
	if err := tryBatch(testContext(tb), target, events); err != nil {
		tb.Fatalf("apply batch of %d events: %v", len(events), err)
	}
}

func tryBatch(ctx context.Context, target projection.Target, events []projection.Event) error {
	return projectiontest.Apply(ctx, target, events)
}

// applyInBatches applies events in consecutive batches of size n.
func applyInBatches(tb testing.TB, target projection.Target, events []projection.Event, n int) {
	tb.Helper()
	for chunk := range slices.Chunk(events, n) {
		applyBatch(tb, target, chunk)
	}
}

// assertModel fails the test when version's target differs from want.
func assertModel(tb testing.TB, pool *pgxpool.Pool, p *views.Projection, version int, want *readmodel.Model) {
	tb.Helper()
	got, err := views.Dump(testContext(tb), pool, p.Name(), version)
	if err != nil {
		tb.Fatalf("dump: %v", err)
	}
	if diff := got.Diff(want); len(diff) > 0 {
		tb.Fatalf("stored model (this) differs from the reference fold:\n%s", strings.Join(diff, "\n"))
	}
}
