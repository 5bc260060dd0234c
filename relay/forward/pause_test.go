package forward

import (
	"testing"
	"time"
)

func TestEmptyPagePauseIsShortOnlyWhileTheShardIsBusy(t *testing.T) {
	c := Config{Table: "t", TopicPrefix: "p"}
	c.applyDefaults()
	now := time.Now()
	for _, tc := range []struct {
		name string
		last time.Time
		want time.Duration
	}{
		{"never gave a record", time.Time{}, c.IdleWait},
		{"records 10ms ago", now.Add(-10 * time.Millisecond), c.BusyWait},
		{"records just inside the window", now.Add(-busyWindow + time.Millisecond), c.BusyWait},
		{"records a window ago", now.Add(-busyWindow), c.IdleWait},
		{"records a minute ago", now.Add(-time.Minute), c.IdleWait},
	} {
		if got := c.emptyPagePause(tc.last, now); got != tc.want {
			t.Errorf("%s: pause %s, want %s", tc.name, got, tc.want)
		}
	}
	if c.BusyWait != 50*time.Millisecond || c.IdleWait != 250*time.Millisecond {
		t.Errorf("defaults busy %s, idle %s; want 50ms and 250ms", c.BusyWait, c.IdleWait)
	}
}

func TestBusyWaitNeverExceedsIdleWait(t *testing.T) {
	c := Config{Table: "t", TopicPrefix: "p", IdleWait: 20 * time.Millisecond}
	c.applyDefaults()
	if c.BusyWait != 20*time.Millisecond {
		t.Fatalf("busy wait %s with an idle wait of 20ms; want it capped at 20ms", c.BusyWait)
	}
}
