package eventstoretest

import (
	"sync"
	"testing"
	"time"
)

// Epoch is the time every test's Clock starts at: in the future, so that no real TTL sweeper deletes records
// the suite writes.
var Epoch = time.Date(2031, 7, 14, 9, 30, 0, 0, time.UTC)

// Clock is a settable clock for idempotency expiry; it is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var clocks sync.Map // testing.TB → *Clock

// ClockFor returns test tb's clock, starting at Epoch: the newStore function given to Run must build its store
// with ClockFor(t).Now as the clock, so that the suite can move time for that store.
func ClockFor(tb testing.TB) *Clock {
	tb.Helper()
	c, loaded := clocks.LoadOrStore(tb, &Clock{now: Epoch})
	if !loaded {
		tb.Cleanup(func() { clocks.Delete(tb) })
	}
	return c.(*Clock)
}
