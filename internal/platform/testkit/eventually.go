package testkit

import (
	"context"
	"testing"
	"time"
)

// Eventually waits until cond holds, checking every 20 ms, and fails the test after deadline: the way tests
// wait on a condition instead of sleeping.
func Eventually(tb testing.TB, deadline time.Duration, what string, cond func() bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			tb.Fatalf("timed out after %s waiting until %s", deadline, what)
		case <-tick.C:
		}
	}
}
