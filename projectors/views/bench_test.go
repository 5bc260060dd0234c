package views_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cqrses-aws/pipeline/internal/eventgen"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/readmodel"
	"github.com/cqrses-aws/pipeline/projectors/views"
)

// benchEvents returns a tenth of the acceptance replay: 100,000 events of eventgen's default mix (about 70%
// MessagePosted) over 1,000 rooms and 2,000 accounts, decoded as the runner hands them over.
func benchEvents(tb testing.TB) []projection.Event {
	gen := eventgen.New(eventgen.Config{Seed: 1, Accounts: 2_000, Rooms: 1_000})
	envs := gen.Events(100_000)
	events := make([]projection.Event, len(envs))
	for i, env := range envs {
		events[i] = decoded(tb, env)
	}
	return events
}

const benchBatch = 5_000

// BenchmarkApply replays the workload into a fresh target in batches of 5,000 events, as the runner does
// (States, Apply, Save, Commit), and reports events/s.
func BenchmarkApply(b *testing.B) {
	pool := newPool(b)
	p := newProjection(b, pool)
	events := benchEvents(b)
	ctx := context.Background()
	var elapsed time.Duration
	for i := range b.N {
		b.StopTimer()
		target := open(b, p, i+1)
		b.StartTimer()
		start := time.Now()
		for chunk := range slices.Chunk(events, benchBatch) {
			if err := tryBatch(ctx, target, chunk); err != nil {
				b.Fatal(err)
			}
		}
		elapsed += time.Since(start)
		b.StopTimer()
		if err := p.Drop(ctx, i+1); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(len(events)*b.N)/elapsed.Seconds(), "events/s")
}

// BenchmarkCopyReference is the benchmark's yardstick: it only copies the final rows of the same workload into a
// fresh target with COPY (the fold is done beforehand, untimed), and reports events/s of the equivalent replay.
func BenchmarkCopyReference(b *testing.B) {
	pool := newPool(b)
	p := newProjection(b, pool)
	events := benchEvents(b)
	m := readmodel.New()
	for _, ev := range events {
		if err := m.Apply(ev.Envelope); err != nil {
			b.Fatal(err)
		}
	}
	accounts, rooms, members, messages := finalRows(m)
	ctx := context.Background()
	var elapsed time.Duration
	for i := range b.N {
		b.StopTimer()
		target := open(b, p, i+1)
		schema := target.(*views.Target).Schema()
		b.StartTimer()
		start := time.Now()
		for _, c := range []struct {
			table string
			cols  []string
			rows  [][]any
		}{
			{"accounts", []string{"id", "name", "version"}, accounts},
			{"rooms", []string{"id", "name", "member_count", "last_message_at", "version"}, rooms},
			{"members", []string{"room_id", "account_id", "name", "role"}, members},
			{"messages", []string{"id", "room_id", "sender_id", "sender_name", "text", "posted_at", "edited_at"}, messages},
		} {
			if _, err := pool.CopyFrom(ctx, pgx.Identifier{schema, c.table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
				b.Fatal(err)
			}
		}
		elapsed += time.Since(start)
		b.StopTimer()
		if err := p.Drop(ctx, i+1); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(len(events)*b.N)/elapsed.Seconds(), "events/s")
}

func finalRows(m *readmodel.Model) (accounts, rooms, members, messages [][]any) {
	for _, a := range m.Accounts {
		accounts = append(accounts, []any{a.ID, a.Name, a.Version})
	}
	for _, r := range m.Rooms {
		var last *time.Time
		if !r.LastMessageAt.IsZero() {
			last = &r.LastMessageAt
		}
		rooms = append(rooms, []any{r.ID, r.Name, len(r.Members), last, r.Version})
		for _, mem := range r.Members {
			members = append(members, []any{r.ID, mem.AccountID, mem.Name, string(mem.Role)})
		}
	}
	for _, msg := range m.Messages {
		var edited *time.Time
		if !msg.EditedAt.IsZero() {
			edited = &msg.EditedAt
		}
		messages = append(messages, []any{msg.ID, msg.RoomID, msg.SenderID, msg.SenderName, msg.Text, msg.PostedAt, edited})
	}
	return accounts, rooms, members, messages
}
