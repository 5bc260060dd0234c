package e2ebench

import (
	"cmp"
	"net/url"
	"slices"
	"time"
)

// rywRead is what the reader that passes the command's consistency token (read-your-writes) saw in the views
// and in search.
type rywRead struct {
	views, search read
}

// read is one question's outcome and when it came; err says why it failed or what was missing.
type read struct {
	outcome outcome
	at      time.Time
	err     string
}

// outcome is how a question of the reader with the token ended.
type outcome int

const (
	// shown: a fresh answer showed the message.
	shown outcome = iota + 1
	// stale: the query API gave up waiting for consistent_with after consistencyTimeout and answered stale.
	stale
	// failed: the request failed or was not answered 200 (an overloaded query API or read model); it counts
	// with the time it failed at, as a stale answer does, so the figure is a lower bound.
	failed
	// missing: a fresh answer without the message, a consistency bug, which fails the benchmark.
	missing
)

// visible reports whether fresh answers of both read models showed the message.
func (r rywRead) visible() bool { return r.views.outcome == shown && r.search.outcome == shown }

// checkViews asks, as s's poster, for s's room's messages consistent with s's command.
func (p *pipeline) checkViews(s *sample) {
	q := url.Values{"limit": {"50"}, "consistent_with": {s.consistency}}
	s.ryw.views = p.awaitShown("/v1/rooms/"+s.room.id+"/messages", q, s)
}

// checkSearch searches, as s's poster, s's word in s's room consistent with s's command.
func (p *pipeline) checkSearch(s *sample) {
	q := url.Values{"q": {s.word}, "room_id": {s.room.id}, "consistent_with": {s.consistency}}
	s.ryw.search = p.awaitShown("/v1/search", q, s)
}

// awaitShown asks path?q as s's poster and returns how the question ended, and when.
func (p *pipeline) awaitShown(path string, q url.Values, s *sample) read {
	ids, at, isStale, err := p.listed(path, q, s.room.token)
	switch {
	case err != nil:
		return read{outcome: failed, at: time.Now(), err: err.Error()}
	case isStale:
		return read{outcome: stale, at: at}
	case !slices.Contains(ids, s.message):
		return read{outcome: missing, at: at, err: "a fresh answer without the message"}
	}
	return read{outcome: shown, at: at}
}

// listed GETs a page of messages or search hits (path?q) from the query API as token's caller and returns the
// messages' ids, when the answer arrived and whether it was stale; or an error for a failed request or an
// answer that is not 200.
func (p *pipeline) listed(path string, q url.Values, token string) (ids []string, at time.Time, stale bool, err error) {
	// A room's messages are "id"s, search hits "message_id"s.
	var page struct {
		Items []struct {
			ID        string `json:"id"`
			MessageID string `json:"message_id"`
		} `json:"items"`
	}
	at, stale, err = p.getJSON(path, q, token, &page)
	if err != nil {
		return nil, time.Time{}, false, err
	}
	ids = make([]string, len(page.Items))
	for i, it := range page.Items {
		ids[i] = cmp.Or(it.MessageID, it.ID)
	}
	return ids, at, stale, nil
}
