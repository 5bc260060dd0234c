// Package leasetest gives tests a lease table of their own on the local stack's DynamoDB API.
package leasetest

import (
	"context"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/relay/lease"
)

// Table creates a uniquely named lease table, deleted when the test ends.
func Table(tb testing.TB) *lease.Table {
	tb.Helper()
	db := testkit.AWS(tb).DynamoDB
	t := lease.NewTable(db, testkit.UniqueName(tb, "leases"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := t.Create(ctx); err != nil {
		tb.Fatalf("leasetest: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		testkit.DeleteTables(ctx, tb, db, t.Name())
	})
	return t
}

// Checkpointed leaves in t a released lease of the shard whose checkpoint is seq, as a relay that stopped after
// relaying up to seq leaves it.
func Checkpointed(tb testing.TB, t *lease.Table, streamARN, shardID, seq string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := t.Take(ctx, streamARN, shardID, "", "leasetest", time.Minute, nil)
	if err == nil {
		l, err = t.Checkpoint(ctx, l, seq, false, time.Minute)
	}
	if err == nil {
		err = t.Release(ctx, l)
	}
	if err != nil {
		tb.Fatalf("leasetest: checkpoint %s of %s: %v", seq, shardID, err)
	}
}
