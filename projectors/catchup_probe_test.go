package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/auth/authtest"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/projectors/readmodel"
)

// freshProbe asks a query API process, as a member of one room, whether it shows the room's newest message of
// the backlog: what "the query API answers fresh" means in the catch-up benchmark.
type freshProbe struct {
	room, member    string
	messageID, text string
	word            string // a word of text that search finds it by
	base, token     string // the query API's base URL and the member's token, once started
	client          *http.Client
}

// newFreshProbe picks, from the fold of the backlog, the room whose newest message is the latest of all rooms'
// newest messages that hold a plain lower-case word (so that a search for the word finds it, and it is also the
// newest hit of that search in the room), and the first of that room's members by id. The message is among the
// last events of the backlog, so the query API shows it only once the projectors have (nearly) caught up.
func newFreshProbe(m *readmodel.Model) (freshProbe, error) {
	newest := map[string]readmodel.Message{}
	for _, msg := range m.Messages {
		if cur, ok := newest[msg.RoomID]; !ok || newerMessage(msg, cur) {
			newest[msg.RoomID] = msg
		}
	}
	var (
		best  readmodel.Message
		word  string
		found bool
	)
	for room, msg := range newest {
		w := searchWord(msg.Text)
		if w == "" || len(m.Rooms[room].Members) == 0 {
			continue
		}
		if !found || newerMessage(msg, best) {
			best, word, found = msg, w, true
		}
	}
	if !found {
		return freshProbe{}, errors.New("fresh probe: no room of the fold has a member and a newest message with a plain word")
	}
	member := slices.Min(slices.Collect(maps.Keys(m.Rooms[best.RoomID].Members)))
	return freshProbe{room: best.RoomID, member: member, messageID: best.ID, text: best.Text, word: word}, nil
}

// newerMessage reports whether a comes before b in the query API's order, newest first: by posted time, then
// by id.
func newerMessage(a, b readmodel.Message) bool {
	if c := a.PostedAt.Compare(b.PostedAt); c != 0 {
		return c > 0
	}
	return cmp.Compare(a.ID, b.ID) > 0
}

// searchWord returns the first word of text of at least four lower-case ASCII letters, which every analyzer of
// the index keeps as one token, or "" when there is none.
func searchWord(text string) string {
	for _, w := range strings.Fields(text) {
		if len(w) >= 4 && strings.Trim(w, "abcdefghijklmnopqrstuvwxyz") == "" {
			return w
		}
	}
	return ""
}

// start starts a query API process of bin on the read models viewsName and searchName, with the member's token
// signed by its AUTH_HS256_SECRET, and returns once it listens. It does not wait for /readyz: the catch-up
// takes far longer than the query API's pings, and a probe the query API answers with 503 (a read model it
// cannot reach yet) is simply not fresh yet. The test's end stops it.
func (p *freshProbe) start(b *testing.B, bin, viewsName, searchName string) {
	b.Helper()
	env := map[string]string{
		"LOG_LEVEL": "info", "AUTH_HS256_SECRET": catchUpSecret,
		"PROJECTORS_VIEWS_NAME": viewsName, "PROJECTORS_SEARCH_NAME": searchName,
		// The probe must never be throttled: a 429 would read as "not fresh yet".
		"RATE_LIMIT_RPS": "100000", "RATE_LIMIT_BURST": "100000",
	}
	for k, v := range searchCredentials(testkit.MustStack(b)) {
		env[k] = v
	}
	proc := servicetest.StartProcess(b, bin, "queryapi", nil, env)
	p.base = "http://" + proc.Addr(b)
	p.token = authtest.MintHS256(b, catchUpSecret, p.member, time.Hour)
	p.client = &http.Client{Timeout: 10 * time.Second}
	b.Cleanup(p.client.CloseIdleConnections)
}

// viewsFresh reports whether the first item of the room's messages page is the probe's message, with its text.
func (p *freshProbe) viewsFresh(ctx context.Context) (bool, error) {
	var page struct {
		Items []struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		} `json:"items"`
	}
	code, err := p.get(ctx, "/v1/rooms/"+url.PathEscape(p.room)+"/messages?limit=1", &page)
	if err != nil || code != http.StatusOK {
		return false, err
	}
	return len(page.Items) > 0 && page.Items[0].ID == p.messageID && page.Items[0].Text == p.text, nil
}

// searchFresh reports whether the newest hit of a search for the probe's word in the room is the probe's
// message, with its text.
func (p *freshProbe) searchFresh(ctx context.Context) (bool, error) {
	var page struct {
		Items []struct {
			MessageID string `json:"message_id"`
			Text      string `json:"text"`
		} `json:"items"`
	}
	q := url.Values{"q": {p.word}, "room_id": {p.room}, "limit": {"1"}}
	code, err := p.get(ctx, "/v1/search?"+q.Encode(), &page)
	if err != nil || code != http.StatusOK {
		return false, err
	}
	return len(page.Items) > 0 && page.Items[0].MessageID == p.messageID && page.Items[0].Text == p.text, nil
}

// get sends GET path to the query API as the member and decodes a 200 answer into into. It
// returns the status; an answer other than 200 is an error naming the status and the start of the body, which
// the benchmark reports only when the probe never succeeds (a 404 is the normal answer while the views do not
// hold the membership yet).
func (p *freshProbe) get(ctx context.Context, path string, into any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path, nil)
	if err != nil {
		return 0, fmt.Errorf("request %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("read the answer to GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("GET %s: %s: %s", path, strconv.Itoa(resp.StatusCode), tail(strings.TrimSpace(string(body)), 300))
	}
	if err := json.Unmarshal(body, into); err != nil {
		return resp.StatusCode, fmt.Errorf("decode the answer to GET %s: %w", path, err)
	}
	return resp.StatusCode, nil
}
