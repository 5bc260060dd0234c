package lease_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/relay/lease"
	"github.com/cqrses-aws/pipeline/relay/lease/leasetest"
)

const arn = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/1"

func TestLeaseLifecycle(t *testing.T) {
	t.Parallel()
	tbl := leasetest.Table(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	a, err := tbl.Take(ctx, arn, "shard-1", "", "a", time.Minute, nil)
	if err != nil {
		t.Fatalf("take new lease: %v", err)
	}
	if a.Owner != "a" || a.Counter != 1 || a.Checkpoint != "" || a.Finished || !a.Held(time.Now()) {
		t.Fatalf("new lease = %+v", a)
	}
	// Someone who saw no lease loses the race for it.
	if _, err := tbl.Take(ctx, arn, "shard-1", "", "b", time.Minute, nil); !errors.Is(err, lease.ErrLost) {
		t.Fatalf("second take of a new lease = %v, want ErrLost", err)
	}
	if a, err = tbl.Checkpoint(ctx, a, "0001", false, time.Minute); err != nil || a.Checkpoint != "0001" {
		t.Fatalf("checkpoint = %+v, %v", a, err)
	}
	if a, err = tbl.Renew(ctx, a, time.Minute); err != nil || a.Checkpoint != "0001" {
		t.Fatalf("renew = %+v, %v", a, err)
	}

	// b takes the lease over as last listed: a's writes are refused from then on, and change nothing.
	listed, err := tbl.List(ctx, arn)
	if err != nil || len(listed) != 1 {
		t.Fatalf("list = %+v, %v", listed, err)
	}
	b, err := tbl.Take(ctx, arn, "shard-1", "", "b", time.Minute, &listed[0])
	if err != nil || b.Owner != "b" || b.Counter != 2 || b.Checkpoint != "0001" {
		t.Fatalf("take over = %+v, %v; want b holding counter 2 at checkpoint 0001", b, err)
	}
	if _, err := tbl.Checkpoint(ctx, a, "0002", false, time.Minute); !errors.Is(err, lease.ErrLost) {
		t.Errorf("stale owner's checkpoint = %v, want ErrLost", err)
	}
	if _, err := tbl.Renew(ctx, a, time.Minute); !errors.Is(err, lease.ErrLost) {
		t.Errorf("stale owner's renewal = %v, want ErrLost", err)
	}
	if err := tbl.Release(ctx, a); !errors.Is(err, lease.ErrLost) {
		t.Errorf("stale owner's release = %v, want ErrLost", err)
	}
	// A take based on an outdated listing fails too.
	if _, err := tbl.Take(ctx, arn, "shard-1", "", "c", time.Minute, &listed[0]); !errors.Is(err, lease.ErrLost) {
		t.Errorf("take on an outdated listing = %v, want ErrLost", err)
	}

	if b, err = tbl.Checkpoint(ctx, b, "0009", true, time.Minute); err != nil || !b.Finished {
		t.Fatalf("final checkpoint = %+v, %v", b, err)
	}
	if err := tbl.Release(ctx, b); err != nil {
		t.Fatalf("release: %v", err)
	}
	listed, err = tbl.List(ctx, arn)
	if err != nil || len(listed) != 1 {
		t.Fatalf("list = %+v, %v", listed, err)
	}
	got := listed[0]
	if got.Owner != "" || got.Held(time.Now()) || got.Checkpoint != "0009" || !got.Finished {
		t.Errorf("released lease = %+v, want no owner, checkpoint 0009, finished", got)
	}
	// A finished shard's lease is never taken again, even on a current listing: its shard is done.
	if _, err := tbl.Take(ctx, arn, "shard-1", "", "d", time.Minute, &got); !errors.Is(err, lease.ErrLost) {
		t.Errorf("take of a finished lease = %v, want ErrLost", err)
	}
}

func TestListIsPerStream(t *testing.T) {
	t.Parallel()
	tbl := leasetest.Table(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, s := range []struct{ arn, shard string }{{arn, "s1"}, {arn, "s2"}, {arn + "x", "s1"}} {
		if _, err := tbl.Take(ctx, s.arn, s.shard, "", "o", time.Minute, nil); err != nil {
			t.Fatalf("take %v: %v", s, err)
		}
	}
	listed, err := tbl.List(ctx, arn)
	if err != nil || len(listed) != 2 {
		t.Fatalf("list = %+v, %v; want the two leases of the stream", listed, err)
	}
	// A delete based on an outdated read fails; on the current one it removes the lease.
	stale := listed[0]
	if _, err := tbl.Take(ctx, arn, stale.ShardID, "", "p", time.Minute, &stale); err != nil {
		t.Fatal(err)
	}
	if err := tbl.Delete(ctx, stale); !errors.Is(err, lease.ErrLost) {
		t.Errorf("delete on an outdated read = %v, want ErrLost", err)
	}
	if listed, err = tbl.List(ctx, arn); err != nil {
		t.Fatal(err)
	}
	for _, l := range listed {
		if l.ShardID == stale.ShardID {
			if err := tbl.Delete(ctx, l); err != nil {
				t.Fatalf("delete: %v", err)
			}
		}
	}
	if listed, err = tbl.List(ctx, arn); err != nil || len(listed) != 1 {
		t.Errorf("after delete: %+v, %v; want one lease left", listed, err)
	}
	// Creating the table again is a no-op.
	if err := tbl.Create(ctx); err != nil {
		t.Errorf("create existing table: %v", err)
	}
}
