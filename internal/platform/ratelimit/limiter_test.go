package ratelimit_test

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/ratelimit"
)

// clock is a fake time source that moves only when told to.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func newLimiter(tb testing.TB, cfg ratelimit.Config, c *clock) *ratelimit.Limiter {
	tb.Helper()
	l, err := ratelimit.New(cfg, c.Now)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return l
}

// drain takes n tokens from key and fails the test unless every one was allowed.
func drain(tb testing.TB, l *ratelimit.Limiter, key string, n int) {
	tb.Helper()
	for i := range n {
		if ok, _ := l.Allow(key); !ok {
			tb.Fatalf("request %d of %s refused, want allowed", i+1, key)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  ratelimit.Config
		want []string
	}{
		{"valid", ratelimit.Config{RPS: 0.5, Burst: 1, MaxKeys: 1}, nil},
		{"zero rps", ratelimit.Config{RPS: 0, Burst: 1, MaxKeys: 1}, []string{"RATE_LIMIT_RPS"}},
		{"negative rps", ratelimit.Config{RPS: -1, Burst: 1, MaxKeys: 1}, []string{"RATE_LIMIT_RPS"}},
		{"NaN rps", ratelimit.Config{RPS: math.NaN(), Burst: 1, MaxKeys: 1}, []string{"RATE_LIMIT_RPS"}},
		{"zero burst", ratelimit.Config{RPS: 1, Burst: 0, MaxKeys: 1}, []string{"RATE_LIMIT_BURST"}},
		{"zero keys", ratelimit.Config{RPS: 1, Burst: 1, MaxKeys: 0}, []string{"RATE_LIMIT_MAX_KEYS"}},
		{"all wrong", ratelimit.Config{}, []string{"RATE_LIMIT_RPS", "RATE_LIMIT_BURST", "RATE_LIMIT_MAX_KEYS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate: want error, got nil")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if l, err := ratelimit.New(tt.cfg, nil); err == nil || l != nil {
				t.Errorf("New = %v, %v; want an error", l, err)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := config.LoadFrom[ratelimit.Config]("", nil)
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	if want := (ratelimit.Config{RPS: 50, Burst: 100, MaxKeys: 100000}); cfg != want {
		t.Errorf("defaults = %+v, want %+v", cfg, want)
	}
}

func TestBurstThenRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rps       float64
		burst     int
		wantRetry time.Duration
	}{
		{rps: 1, burst: 3, wantRetry: time.Second},
		{rps: 4, burst: 1, wantRetry: 250 * time.Millisecond},
		{rps: 0.1, burst: 2, wantRetry: 10 * time.Second},
		{rps: 3, burst: 5, wantRetry: 333333334 * time.Nanosecond},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%grps burst %d", tt.rps, tt.burst), func(t *testing.T) {
			t.Parallel()
			c := newClock()
			l := newLimiter(t, ratelimit.Config{RPS: tt.rps, Burst: tt.burst, MaxKeys: 10}, c)
			drain(t, l, "alice", tt.burst)
			ok, retry := l.Allow("alice")
			if ok || retry != tt.wantRetry {
				t.Fatalf("over the burst: Allow = %v, %v; want false, %v", ok, retry, tt.wantRetry)
			}
			// A refused request takes nothing: half way the wait has halved.
			c.Advance(retry / 2)
			if ok, half := l.Allow("alice"); ok || half < retry/2-time.Microsecond || half > retry/2+time.Microsecond {
				t.Errorf("half way: Allow = %v, %v; want false, about %v", ok, half, retry/2)
			}
			c.Advance(retry - retry/2)
			if ok, r := l.Allow("alice"); !ok {
				t.Fatalf("after waiting Retry-After: refused, retry %v", r)
			}
			if ok, _ := l.Allow("alice"); ok {
				t.Error("the refill gave more than one token")
			}
		})
	}
}

func TestRefillAndIndependentKeys(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := newLimiter(t, ratelimit.Config{RPS: 2, Burst: 4, MaxKeys: 10}, c)
	drain(t, l, "alice", 4)
	if ok, _ := l.Allow("alice"); ok {
		t.Fatal("alice allowed past her burst")
	}
	drain(t, l, "bob", 4) // alice's bucket is hers alone

	c.Advance(time.Second)
	drain(t, l, "alice", 2)
	if ok, _ := l.Allow("alice"); ok {
		t.Error("one second at 2 rps refilled more than 2 tokens")
	}
	c.Advance(time.Hour)
	drain(t, l, "alice", 4)
	if ok, _ := l.Allow("alice"); ok {
		t.Error("a long idle time refilled more than the burst")
	}
}

func TestMaxKeysEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := newLimiter(t, ratelimit.Config{RPS: 0.001, Burst: 1, MaxKeys: 3}, c)
	drain(t, l, "a", 1)
	drain(t, l, "b", 1)
	drain(t, l, "c", 1)
	if ok, _ := l.Allow("a"); ok { // refused, and a becomes the most recently used
		t.Fatal("a allowed past its burst")
	}
	drain(t, l, "d", 1) // evicts b, the least recently used
	if n := l.Len(); n != 3 {
		t.Errorf("Len = %d, want 3", n)
	}
	if ok, _ := l.Allow("a"); ok {
		t.Error("a was evicted although it was used more recently than b")
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Error("b kept its empty bucket although it was the least recently used")
	}
	for i := range 1000 {
		l.Allow(fmt.Sprintf("k%d", i))
		if n := l.Len(); n > 3 {
			t.Fatalf("after %d more keys Len = %d, over MaxKeys 3", i+1, n)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	const burst, workers, perWorker, ownKeys = 100, 16, 200, 20
	tests := []struct {
		name    string
		maxKeys int
	}{
		{"no eviction", 1000}, // 1 + 16*20 keys fit
		{"with eviction", 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClock() // time stands still, so a key is allowed exactly its burst while it is kept
			l := newLimiter(t, ratelimit.Config{RPS: 1, Burst: burst, MaxKeys: tt.maxKeys}, c)
			var shared, own atomic.Int64
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for i := range perWorker {
						if ok, _ := l.Allow("shared"); ok {
							shared.Add(1)
						}
						if ok, _ := l.Allow(fmt.Sprintf("w%d-%d", w, i%ownKeys)); ok {
							own.Add(1)
						}
						if n := l.Len(); n > tt.maxKeys {
							t.Errorf("Len = %d, over MaxKeys %d", n, tt.maxKeys)
							return
						}
					}
				})
			}
			wg.Wait()
			if tt.maxKeys < 1000 {
				if n := l.Len(); n != tt.maxKeys {
					t.Errorf("Len = %d after churning many keys, want MaxKeys %d", n, tt.maxKeys)
				}
				return
			}
			if got := shared.Load(); got != burst {
				t.Errorf("shared key allowed %d times by %d goroutines, want exactly the burst %d", got, workers, burst)
			}
			// Each worker key gets perWorker/ownKeys requests, within its burst.
			if got := own.Load(); got != workers*perWorker {
				t.Errorf("worker keys allowed %d times, want all %d", got, workers*perWorker)
			}
		})
	}
}

func TestNilClockUsesTime(t *testing.T) {
	t.Parallel()
	l, err := ratelimit.New(ratelimit.Config{RPS: 1, Burst: 1, MaxKeys: 1}, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if ok, _ := l.Allow("alice"); !ok {
		t.Error("first request refused")
	}
	if ok, retry := l.Allow("alice"); ok || retry <= 0 || retry > time.Second {
		t.Errorf("second request: Allow = %v, %v; want false within 1s", ok, retry)
	}
}
