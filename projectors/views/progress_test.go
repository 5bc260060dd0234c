package views_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/views"
)

// TestProgressIsAnnounced listens on the projection's progress channel: a committed batch is announced with its
// target schema, a switch too, and the stable schema shows the applied seqs.
func TestProgressIsAnnounced(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	p := newProjection(t, pool)
	ctx := testContext(t)
	conn, err := pgx.Connect(ctx, pool.Config().ConnConfig.ConnString())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{views.ProgressChannel(p.Name())}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	next := func() string {
		t.Helper()
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			t.Fatalf("wait for a notification: %v", err)
		}
		return n.Payload
	}

	target := open(t, p, 1)
	j := newJournal(t)
	applyBatch(t, target, []projection.Event{j.register("acct-ann", "Ann"), j.createRoom("room-1", "one", "acct-ann")})
	if got := next(); got != p.Name()+"_v1" {
		t.Errorf("batch announced %q, want the target schema", got)
	}
	if err := p.Switch(ctx, 0, 1); err != nil {
		t.Fatal(err)
	}
	if got := next(); got != p.Name()+"_v1" {
		t.Errorf("switch announced %q, want the target schema", got)
	}
	var seq int64
	if err := pool.QueryRow(ctx, "SELECT seq FROM "+pgx.Identifier{p.Name(), "aggregates"}.Sanitize()+" WHERE aid = 'room-1'").
		Scan(&seq); err != nil || seq != 1 {
		t.Errorf("stable aggregates: room-1 at %d (%v), want 1", seq, err)
	}
}
