// Package health answers the liveness (/healthz) and readiness (/readyz) probes.
package health

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"
)

// Status values of a Report and of each check in it.
const (
	StatusOK          = "ok"
	StatusUnavailable = "unavailable"
)

const (
	defaultTimeout = 2 * time.Second
	maxErrorText   = 200
)

// Check is one dependency probed for readiness; Probe returns nil when the dependency is usable
// and must honour ctx, though the Checker stops waiting at its timeout either way.
type Check struct {
	Name  string
	Probe func(ctx context.Context) error
}

// Report is the readiness answer: Status is "ok" only when every check is "ok"; Checks maps each
// check name to "ok" or a short error text.
type Report struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// Checker runs a fixed set of checks concurrently, each bounded by a timeout; it is safe for
// concurrent use.
type Checker struct {
	timeout time.Duration
	checks  []Check
}

// NewChecker returns a Checker for checks, which should have unique names, with a per-probe
// timeout (2s when timeout is not positive).
func NewChecker(timeout time.Duration, checks ...Check) *Checker {
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	return &Checker{timeout: timeout, checks: append([]Check(nil), checks...)}
}

// Run probes every check concurrently and returns once all answered or timed out.
func (c *Checker) Run(ctx context.Context) Report {
	results := make([]string, len(c.checks))
	var wg sync.WaitGroup
	for i, chk := range c.checks {
		wg.Go(func() { results[i] = c.probe(ctx, chk) })
	}
	wg.Wait()

	r := Report{Status: StatusOK, Checks: make(map[string]string, len(c.checks))}
	for i, chk := range c.checks {
		r.Checks[chk.Name] = results[i]
		if results[i] != StatusOK {
			r.Status = StatusUnavailable
		}
	}
	return r
}

// probe runs one check and returns "ok" or its error text. The probe runs in its own goroutine
// so one that ignores ctx cannot hold the readiness answer past the timeout.
func (c *Checker) probe(ctx context.Context, chk Check) string {
	if chk.Probe == nil {
		return "no probe configured"
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	done := make(chan error, 1)
	go func() { done <- chk.Probe(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	switch {
	case err == nil:
		return StatusOK
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		return fmt.Sprintf("timed out after %s", c.timeout)
	default:
		return truncate(err.Error(), maxErrorText)
	}
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
