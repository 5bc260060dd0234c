package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Result is the body of a successful command: the aggregate id, its version after the command, the token that
// makes a query wait for this write, and the new message's id for a post.
type Result struct {
	ID               string `json:"id"`
	Version          int64  `json:"version"`
	ConsistencyToken string `json:"consistency_token"`
	MessageID        string `json:"message_id"`
}

// StatusError is a non-2xx answer that is not retried: its status and the problem body as the writer sent it.
type StatusError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.Path, e.Status, http.StatusText(e.Status), e.Body)
}

// IsStatus reports whether err is a StatusError with status.
func IsStatus(err error, status int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status == status
}

// Client sends commands to the writer as any account, minting each account's token once. It retries 429 and
// 503 answers, waiting what Retry-After says (else a growing backoff), up to MaxAttempts. It is safe for
// concurrent use.
type Client struct {
	// BaseURL is the writer's address, e.g. http://127.0.0.1:8080.
	BaseURL string
	// HTTP sends the requests (default: a client with a 30 s timeout).
	HTTP *http.Client
	// Token mints a token for an account id.
	Token func(sub string) (string, error)
	// MaxAttempts bounds the tries of one command (default 20).
	MaxAttempts int
	// MaxWait caps one wait between tries (default 30 s).
	MaxWait time.Duration
	// Wait waits d or until ctx ends (default: a timer); tests replace it to run without waiting.
	Wait func(ctx context.Context, d time.Duration) error

	mu     sync.Mutex
	tokens map[string]string

	requests, retries atomic.Int64
}

// Requests returns how many HTTP requests were sent, retries included.
func (c *Client) Requests() int64 { return c.requests.Load() }

// Retries returns how many requests were answered 429 or 503 and retried.
func (c *Client) Retries() int64 { return c.retries.Load() }

func (c *Client) token(sub string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.tokens[sub]; ok {
		return t, nil
	}
	t, err := c.Token(sub)
	if err != nil {
		return "", fmt.Errorf("token for %s: %w", sub, err)
	}
	if c.tokens == nil {
		c.tokens = map[string]string{}
	}
	c.tokens[sub] = t
	return t, nil
}

// Do sends one command as account sub: method and path, body encoded as JSON when not nil, and idempotencyKey
// as Idempotency-Key when not empty (so a retry after a lost answer appends nothing twice). It returns the
// decoded result of a 2xx answer, a *StatusError for any other answer that is not retried or when the tries are
// used up, or the transport's or ctx's error.
func (c *Client) Do(ctx context.Context, sub, method, path string, body any, idempotencyKey string) (Result, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return Result{}, fmt.Errorf("%s %s: encode body: %w", method, path, err)
		}
	}
	token, err := c.token(sub)
	if err != nil {
		return Result{}, err
	}
	maxAttempts := c.MaxAttempts
	if maxAttempts < 1 {
		maxAttempts = 20
	}
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		res, retryAfter, err := c.once(ctx, token, method, path, payload, idempotencyKey)
		if err == nil || retryAfter < 0 || attempt == maxAttempts {
			return res, err
		}
		c.retries.Add(1)
		wait := retryAfter
		if wait == 0 {
			wait = backoff
			backoff = min(2*backoff, 5*time.Second)
		}
		if err := c.wait(ctx, c.capWait(wait)); err != nil {
			return Result{}, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
}

// once sends one request. retryAfter is negative when the answer must not be retried, zero for a retryable
// answer without Retry-After, else what Retry-After asked for.
func (c *Client) once(ctx context.Context, token, method, path string, payload []byte, key string) (res Result, retryAfter time.Duration, err error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, body)
	if err != nil {
		return Result{}, -1, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	c.requests.Add(1)
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return Result{}, -1, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Result{}, -1, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(raw, &res); err != nil {
			return Result{}, -1, fmt.Errorf("%s %s: decode answer %q: %w", method, path, raw, err)
		}
		return res, -1, nil
	}
	err = &StatusError{Method: method, Path: path, Status: resp.StatusCode, Body: strings.TrimSpace(string(raw))}
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return Result{}, -1, err
	}
	return Result{}, parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), err
}

// parseRetryAfter reads Retry-After in seconds or as an HTTP date; zero when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}

func (c *Client) capWait(d time.Duration) time.Duration {
	maxWait := c.MaxWait
	if maxWait <= 0 {
		maxWait = 30 * time.Second
	}
	return min(d, maxWait)
}

func (c *Client) wait(ctx context.Context, d time.Duration) error {
	if c.Wait != nil {
		return c.Wait(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

var defaultHTTP = &http.Client{Timeout: 30 * time.Second}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}
