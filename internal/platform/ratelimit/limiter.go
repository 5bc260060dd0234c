package ratelimit

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// Limiter holds a token bucket per key. It is safe for concurrent use.
type Limiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	buckets *simplelru.LRU[string, *rate.Limiter]
}

// New returns a limiter for cfg that reads the time from now (time.Now when nil). It returns the joined Config
// problems when cfg is invalid.
func New(cfg Config, now func() time.Time) (*Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("rate limit config: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	buckets, err := simplelru.NewLRU[string, *rate.Limiter](cfg.MaxKeys, nil)
	if err != nil {
		return nil, fmt.Errorf("rate limit buckets: %w", err)
	}
	return &Limiter{limit: rate.Limit(cfg.RPS), burst: cfg.Burst, now: now, buckets: buckets}, nil
}

// Allow takes one token from key's bucket and reports whether there was one; when there was not, retryAfter is
// how long until there will be.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.now()
	b := l.bucket(key)
	if b.AllowN(now, 1) {
		return true, 0
	}
	return false, l.refillTime(1 - b.TokensAt(now))
}

// refillTime returns how long the bucket takes to gain tokens, rounded up to the nanosecond and at least 1ns.
func (l *Limiter) refillTime(tokens float64) time.Duration {
	ns := math.Ceil(tokens / float64(l.limit) * float64(time.Second))
	if ns >= math.MaxInt64 {
		// A tiny rate: the conversion would overflow.
		return time.Duration(math.MaxInt64)
	}
	return max(time.Duration(ns), time.Nanosecond)
}

// Len returns how many keys have a bucket; it never exceeds Config.MaxKeys.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buckets.Len()
}

// bucket returns key's bucket, creating a full one (and dropping the least recently used) when there is none.
func (l *Limiter) bucket(key string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets.Get(key); ok {
		return b
	}
	b := rate.NewLimiter(l.limit, l.burst)
	l.buckets.Add(key, b)
	return b
}
