package e2ebench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/auth/authtest"
)

// poster is one room and its owner's token.
type poster struct {
	room, token string
}

// setupRooms registers one account per room and creates the rooms, then posts once to each and waits (at most
// two minutes) until every read model shows that message: the pipeline works end to end before anything is
// measured.
func (p *pipeline) setupRooms(b *testing.B) []poster {
	b.Helper()
	start := time.Now()
	posters := make([]poster, rooms)
	suffix := randomHex(4)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for i := range posters {
		id := fmt.Sprintf("acct-eb-%s-%02d", suffix, i)
		token := authtest.MintHS256(b, secret, id, 2*time.Hour)
		wg.Go(func() {
			_, _, err := p.command(token, "/v1/accounts", map[string]string{"name": "Poster " + id})
			var room command
			if err == nil {
				room, _, err = p.command(token, "/v1/rooms", map[string]string{"name": "Room of " + id})
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			posters[i] = poster{room: room.ID, token: token}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		b.Fatalf("set up %d rooms: %v", rooms, errs[0])
	}
	b.Logf("registered %d accounts and created their rooms in %s", rooms, time.Since(start).Round(time.Millisecond))
	// The projectors make their first versions live only once they caught up: until then queries answer 503.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, ps := range posters {
		wg.Go(func() {
			s := &sample{room: ps.room, token: ps.token, word: "warm" + randomHex(6)}
			c, _, err := p.command(ps.token, "/v1/rooms/"+ps.room+"/messages", map[string]string{"text": "warm up " + s.word})
			if err == nil {
				s.message, s.consistency = c.MessageID, c.ConsistencyToken
				err = p.warm(ctx, s)
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		b.Fatal(errs[0])
	}
	b.Logf("pipeline ready end to end in %s", time.Since(start).Round(time.Millisecond))
	return posters
}

// warm asks for s every 200 ms until both read models show it; it fails when ctx ends first.
func (p *pipeline) warm(ctx context.Context, s *sample) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		*s = sample{room: s.room, token: s.token, word: s.word, message: s.message, consistency: s.consistency}
		p.checkViews(s)
		p.checkSearch(s)
		if !s.views.IsZero() && !s.search.IsZero() && !s.viewsStale && !s.searchStale {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the warm-up message of %s was not visible within 2 minutes (views: %s; search: %s)",
				s.room, s.viewsErr, s.searchErr)
		case <-tick.C:
		}
	}
}

// command is the writer's answer to a command.
type command struct {
	ID               string `json:"id"`
	ConsistencyToken string `json:"consistency_token"`
	MessageID        string `json:"message_id"`
}

// command POSTs body to the writer's path as token's caller and returns the answer and when it arrived; it fails
// unless the writer answers 201.
func (p *pipeline) command(token, path string, body any) (command, time.Time, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return command{}, time.Time{}, err
	}
	req, err := http.NewRequest(http.MethodPost, p.Writer+path, bytes.NewReader(payload))
	if err != nil {
		return command{}, time.Time{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return command{}, time.Time{}, fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	at := time.Now()
	if err != nil {
		return command{}, time.Time{}, fmt.Errorf("POST %s: read the answer: %w", path, err)
	}
	var c command
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(raw, &c) != nil || c.ConsistencyToken == "" {
		return command{}, time.Time{}, fmt.Errorf("POST %s = %d %.300s, want 201 with a consistency token", path, resp.StatusCode, raw)
	}
	return c, at, nil
}

// sample is one posted message and when each step of its way was seen.
type sample struct {
	room, token, word    string
	message, consistency string
	sent, answered       time.Time // the command's request and response
	// views and search are when the answers that showed it arrived, or the stale answers that came instead
	// after consistencyTimeout (viewsStale, searchStale); zero when the question failed (viewsErr, searchErr:
	// a failed request, or a fresh answer without the message).
	views, search           time.Time
	viewsStale, searchStale bool
	viewsErr, searchErr     string
}

// run is the outcome of one load phase.
type run struct {
	samples []*sample
	start   time.Time
	last    time.Time // the last command's response
	missed  int       // ticks no room was free for
}

// rate returns the commands answered per second.
func (r run) rate() float64 {
	if len(r.samples) == 0 {
		return 0
	}
	return float64(len(r.samples)) / r.last.Sub(r.start).Seconds()
}

// command returns the q-quantile of the command latency.
func (r run) command(q float64) time.Duration {
	d := make([]time.Duration, len(r.samples))
	for i, s := range r.samples {
		d[i] = s.answered.Sub(s.sent)
	}
	return quantile(d, q)
}

// load posts messages for d, each to a free room: at rate per second (open loop: a tick finding every room busy
// is missed, not queued), or back to back in every room when rate is 0. For each answered one it asks the query
// API, right away and with its consistency token, for the room's messages and for its word; it returns when
// every question is answered. A failed command fails the benchmark.
func (p *pipeline) load(b *testing.B, posters []poster, records *kafkaRecords, rate float64, d time.Duration) run {
	b.Helper()
	var (
		ticks    = make(chan struct{})
		mu       sync.Mutex
		out      run
		workers  sync.WaitGroup
		checkers sync.WaitGroup
		failed   error
	)
	for _, ps := range posters {
		workers.Go(func() {
			for range ticks {
				s := &sample{room: ps.room, token: ps.token, word: "w" + randomHex(8), sent: time.Now()}
				c, at, err := p.command(ps.token, "/v1/rooms/"+ps.room+"/messages",
					map[string]string{"text": "benchmark message " + s.word + " for the pipeline"})
				mu.Lock()
				if err != nil {
					failed = err
					mu.Unlock()
					continue
				}
				s.message, s.consistency, s.answered = c.MessageID, c.ConsistencyToken, at
				out.samples = append(out.samples, s)
				out.last = at
				mu.Unlock()
				records.expect(s.message)
				checkers.Go(func() { p.checkViews(s) })
				checkers.Go(func() { p.checkSearch(s) })
			}
		})
	}
	out.start = time.Now()
	end := out.start.Add(d)
	if rate == 0 {
		for time.Now().Before(end) {
			ticks <- struct{}{}
		}
	} else {
		interval := time.Duration(float64(time.Second) / rate)
		timer := time.NewTimer(0)
		for next := out.start; next.Before(end); next = next.Add(interval) {
			// Pacing the open loop: wait for the tick's time.
			timer.Reset(time.Until(next))
			<-timer.C
			select {
			case ticks <- struct{}{}:
			default:
				out.missed++
			}
		}
	}
	close(ticks)
	workers.Wait()
	checkers.Wait()
	if failed != nil {
		b.Fatal(failed)
	}
	// The visible messages went through Kafka; the benchmark's consumer may still be behind the projectors.
	if left := records.caughtUp(30 * time.Second); left > 0 {
		b.Fatalf("the benchmark's consumer did not read %d posted messages from Kafka within 30s", left)
	}
	return out
}

// checkViews asks for s's room's messages consistent with s's command and notes when an answer showed s.
func (p *pipeline) checkViews(s *sample) {
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	at, stale, err := p.get("/v1/rooms/"+s.room+"/messages", url.Values{"limit": {"50"}, "consistent_with": {s.consistency}}, s.token, &page)
	if err != nil {
		s.viewsErr = err.Error()
		return
	}
	if stale {
		s.views, s.viewsStale = at, true
		return
	}
	if !slices.ContainsFunc(page.Items, func(m struct {
		ID string `json:"id"`
	}) bool {
		return m.ID == s.message
	}) {
		s.viewsErr = "missing: a fresh answer without the message"
		return
	}
	s.views = at
}

// checkSearch searches s's word in s's room consistent with s's command and notes when an answer showed s.
func (p *pipeline) checkSearch(s *sample) {
	var page struct {
		Items []struct {
			MessageID string `json:"message_id"`
		} `json:"items"`
	}
	at, stale, err := p.get("/v1/search", url.Values{"q": {s.word}, "room_id": {s.room}, "consistent_with": {s.consistency}}, s.token, &page)
	if err != nil {
		s.searchErr = err.Error()
		return
	}
	if stale {
		s.search, s.searchStale = at, true
		return
	}
	if !slices.ContainsFunc(page.Items, func(h struct {
		MessageID string `json:"message_id"`
	}) bool {
		return h.MessageID == s.message
	}) {
		s.searchErr = "missing: a fresh answer without the message"
		return
	}
	s.search = at
}

// get GETs path?q from the query API as token's caller and decodes the answer into v; it returns when the
// answer arrived and whether it was stale (its read model had not applied consistent_with in time), or an
// error for a failed request or an answer that is not 200.
func (p *pipeline) get(path string, q url.Values, token string, v any) (time.Time, bool, error) {
	req, err := http.NewRequest(http.MethodGet, p.Query+path+"?"+q.Encode(), nil)
	if err != nil {
		return time.Time{}, false, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := p.client.Do(req)
	if err != nil {
		return time.Time{}, false, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	at := time.Now()
	switch {
	case err != nil:
		return time.Time{}, false, err
	case resp.StatusCode != http.StatusOK:
		return time.Time{}, false, fmt.Errorf("GET %s = %d %.200s", path, resp.StatusCode, raw)
	}
	return at, resp.Header.Get(staleHeader) == "true", json.Unmarshal(raw, v)
}
