package e2ebench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// freshness is the reader that passes no consistency token: an account that is a member of every room and
// polls, as any other member's client would, until it has seen each posted message; when an answer first
// showed a message is its freshness as everyone else sees it, to within the polling interval.
//
// In the views it lists its rooms every viewsPoll (GET rooms: one answer holds every room's version, so the
// polling costs the same however many rooms wait); a room whose version reached a waiting message's has applied
// it, since the views commit a batch's messages and rooms' versions in one transaction, and the reader confirms
// it by reading the room's messages (GET messages) before it counts the message seen when the listing arrived.
// In search it asks every searchPoll for the word of each bucket (bucketTicks consecutive messages) that has a
// message it has not seen (GET search).
type freshness struct {
	p     *pipeline
	token string
	ctx   context.Context
	stop  context.CancelFunc
	wg    sync.WaitGroup
	wake  [2]chan struct{} // a message to look for, for the views' and search's loops

	mu            sync.Mutex
	rooms         map[string][]*sample // waiting for the views, by room
	buckets       map[string][]*sample // waiting for search, by bucket word
	views, search pollStats
}

// pollStats counts a loop's requests: all of them, their time, those that failed (the first one kept), and, in
// the views, rooms whose listed version reached a message their messages did not show yet.
type pollStats struct {
	requests, failures, mismatches int
	took                           time.Duration
	first                          error
}

// count counts a request that started at start and failed with err, if any.
func (s *pollStats) count(start time.Time, err error) {
	s.requests++
	s.took += time.Since(start)
	if err != nil {
		s.failures++
		if s.first == nil {
			s.first = err
		}
	}
}

// newFreshness starts the reader without a token, polling as reader's caller until drain stops it.
func (p *pipeline) newFreshness(reader string) *freshness {
	ctx, stop := context.WithCancel(context.Background())
	f := &freshness{p: p, token: reader, ctx: ctx, stop: stop, rooms: map[string][]*sample{},
		buckets: map[string][]*sample{}, wake: [2]chan struct{}{make(chan struct{}, 1), make(chan struct{}, 1)}}
	f.wg.Go(func() { f.loop(viewsPoll, f.wake[0], func() bool { return len(f.rooms) > 0 }, f.viewsRound) })
	f.wg.Go(func() { f.loop(searchPoll, f.wake[1], func() bool { return len(f.buckets) > 0 }, f.searchRound) })
	return f
}

// watch makes the reader look for s until it sees it in both read models.
func (f *freshness) watch(s *sample) {
	f.mu.Lock()
	f.rooms[s.room.id] = append(f.rooms[s.room.id], s)
	f.buckets[s.bucket] = append(f.buckets[s.bucket], s)
	f.mu.Unlock()
	for _, w := range f.wake {
		select {
		case w <- struct{}{}:
		default: // already signalled
		}
	}
}

// loop calls round every interval (counted from each round's start; back to back when one takes longer) while
// waiting (called with f.mu held) reports messages to look for, and waits for wake otherwise, until f stops.
func (f *freshness) loop(interval time.Duration, wake <-chan struct{}, waiting func() bool, round func()) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		f.mu.Lock()
		idle := !waiting()
		f.mu.Unlock()
		if idle {
			select {
			case <-f.ctx.Done():
				return
			case <-wake:
			}
			continue
		}
		started := time.Now()
		round()
		// The polling rhythm: the next round is due one interval after this one started.
		timer.Reset(time.Until(started.Add(interval)))
		select {
		case <-f.ctx.Done():
			return
		case <-timer.C:
		}
	}
}

// viewsRound lists the rooms' versions and confirms, in each room whose version reached some of its waiting
// messages, that its messages show them; those are seen when the listing of the room arrived.
func (f *freshness) viewsRound() {
	start := time.Now()
	versions, err := f.roomVersions()
	f.mu.Lock()
	f.views.count(start, err)
	applied := map[string][]*sample{}
	for room, waiting := range f.rooms {
		for _, s := range waiting {
			if v, ok := versions[room]; ok && s.version <= v.version {
				applied[room] = append(applied[room], s)
			}
		}
	}
	f.mu.Unlock()
	var wg sync.WaitGroup
	for room, ss := range applied {
		wg.Go(func() {
			// One sender posts to a room, one command at a time, so the message is among the room's latest 50.
			start := time.Now()
			ids, _, _, err := f.p.listed("/v1/rooms/"+room+"/messages", url.Values{"limit": {"50"}}, f.token)
			f.mu.Lock()
			defer f.mu.Unlock()
			f.views.count(start, err)
			for _, s := range ss {
				if !slices.Contains(ids, s.message) {
					f.views.mismatches++
					continue
				}
				s.fresh = versions[room].at
				f.rooms[room] = slices.DeleteFunc(f.rooms[room], func(w *sample) bool { return w == s })
			}
			if len(f.rooms[room]) == 0 {
				delete(f.rooms, room)
			}
		})
	}
	wg.Wait()
}

// searchRound searches the word of every bucket with a waiting message, at once, and notes the messages each
// answer showed as seen at its arrival.
func (f *freshness) searchRound() {
	f.mu.Lock()
	buckets := make([]string, 0, len(f.buckets))
	for b := range f.buckets {
		buckets = append(buckets, b)
	}
	f.mu.Unlock()
	var wg sync.WaitGroup
	for _, bucket := range buckets {
		wg.Go(func() {
			// A bucket's messages fit in one page.
			start := time.Now()
			ids, at, _, err := f.p.listed("/v1/search", url.Values{"q": {bucket}, "limit": {"100"}}, f.token)
			f.mu.Lock()
			defer f.mu.Unlock()
			f.search.count(start, err)
			f.buckets[bucket] = slices.DeleteFunc(f.buckets[bucket], func(s *sample) bool {
				if slices.Contains(ids, s.message) {
					s.freshSearch = at
					return true
				}
				return false
			})
			if len(f.buckets[bucket]) == 0 {
				delete(f.buckets, bucket)
			}
		})
	}
	wg.Wait()
}

// roomVersion is a room's version as a listing of the reader's rooms showed it, and when that answer arrived.
type roomVersion struct {
	version int64
	at      time.Time
}

// roomVersions lists the reader's rooms, every page, and returns each one's version and its page's arrival.
func (f *freshness) roomVersions() (map[string]roomVersion, error) {
	versions := map[string]roomVersion{}
	q := url.Values{"limit": {"100"}}
	for {
		var page struct {
			Items []struct {
				ID      string `json:"id"`
				Version int64  `json:"version"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		at, _, err := f.p.getJSON("/v1/rooms", q, f.token, &page)
		if err != nil {
			return versions, err
		}
		for _, r := range page.Items {
			versions[r.ID] = roomVersion{version: r.Version, at: at}
		}
		if page.NextCursor == nil {
			return versions, nil
		}
		q.Set("cursor", *page.NextCursor)
	}
}

// drain waits until the reader saw every message or deadline passed, stops it and returns how many messages it
// had not seen in the views and in search.
func (f *freshness) drain(deadline time.Time) (views, search int) {
	check := time.NewTicker(10 * time.Millisecond)
	defer check.Stop()
	for {
		f.mu.Lock()
		done := len(f.rooms) == 0 && len(f.buckets) == 0
		f.mu.Unlock()
		if done || !time.Now().Before(deadline) {
			break
		}
		<-check.C
	}
	f.stop()
	f.wg.Wait()
	for _, w := range f.rooms {
		views += len(w)
	}
	for _, w := range f.buckets {
		search += len(w)
	}
	return views, search
}

// getJSON GETs path?q from the query API as token's caller and decodes the answer into v; it returns when the
// answer arrived and whether it was stale (its read model had not applied consistent_with in time), or an
// error for a failed request or an answer that is not 200.
func (p *pipeline) getJSON(path string, q url.Values, token string, v any) (at time.Time, stale bool, err error) {
	req, err := http.NewRequest(http.MethodGet, p.Query+path+"?"+q.Encode(), nil)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("GET %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := p.client.Do(req)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	at = time.Now()
	switch {
	case err != nil:
		return time.Time{}, false, fmt.Errorf("GET %s: read the answer: %w", path, err)
	case resp.StatusCode != http.StatusOK:
		return time.Time{}, false, fmt.Errorf("GET %s = %d %.200s", path, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return time.Time{}, false, fmt.Errorf("GET %s: decode the answer: %w", path, err)
	}
	return at, resp.Header.Get(staleHeader) == "true", nil
}
