package e2ebench

import (
	"cmp"
	"net/url"
	"slices"
	"time"
)

// rywRead is what the reader that passes the command's consistency token (read-your-writes) saw: when the
// answers that showed the message arrived (views, search), or the stale answers that came instead after
// consistencyTimeout (viewsStale, searchStale); zero when the question failed (viewsErr, searchErr: a failed
// request, or a fresh answer without the message).
type rywRead struct {
	views, search           time.Time
	viewsStale, searchStale bool
	viewsErr, searchErr     string
}

// visible reports whether fresh answers of both read models showed the message.
func (r rywRead) visible() bool {
	return !r.views.IsZero() && !r.search.IsZero() && !r.viewsStale && !r.searchStale
}

// checkViews asks, as s's poster, for s's room's messages consistent with s's command and notes when an answer
// showed s.
func (p *pipeline) checkViews(s *sample) {
	q := url.Values{"limit": {"50"}, "consistent_with": {s.consistency}}
	s.ryw.views, s.ryw.viewsStale, s.ryw.viewsErr = p.awaitShown("/v1/rooms/"+s.room.id+"/messages", q, s)
}

// checkSearch searches, as s's poster, s's word in s's room consistent with s's command and notes when an
// answer showed s.
func (p *pipeline) checkSearch(s *sample) {
	q := url.Values{"q": {s.word}, "room_id": {s.room.id}, "consistent_with": {s.consistency}}
	s.ryw.search, s.ryw.searchStale, s.ryw.searchErr = p.awaitShown("/v1/search", q, s)
}

// awaitShown asks path?q as s's poster and returns when the answer arrived and whether it was stale; or why it
// does not count: a failed request, or a fresh answer without s (a consistency bug, not a slow pipeline).
func (p *pipeline) awaitShown(path string, q url.Values, s *sample) (time.Time, bool, string) {
	ids, at, stale, err := p.listed(path, q, s.room.token)
	switch {
	case err != nil:
		return time.Time{}, false, err.Error()
	case stale:
		return at, true, ""
	case !slices.Contains(ids, s.message):
		return time.Time{}, false, "missing: a fresh answer without the message"
	}
	return at, false, ""
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
