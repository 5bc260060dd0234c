package e2ebench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/auth/authtest"
)

// room is one room and its owner's token: its sender posts as the owner.
type room struct {
	id, token string
}

// setupRooms registers one account per room and creates the n rooms, registers the reader account (the
// reader without a consistency token) and adds it to every room, then posts once to each room and waits (at
// most two minutes) until both read models show that message: the pipeline works end to end before anything
// is measured. It returns the rooms and the reader's token.
func (p *pipeline) setupRooms(b *testing.B, n int) ([]room, string) {
	b.Helper()
	start := time.Now()
	suffix := randomHex(4)
	readerID := "acct-eb-" + suffix + "-reader"
	reader := authtest.MintHS256(b, secret, readerID, 2*time.Hour)
	if _, _, err := p.command(reader, "/v1/accounts", map[string]string{"name": "Reader " + readerID}); err != nil {
		b.Fatalf("register the reader: %v", err)
	}
	rooms := make([]room, n)
	err := each(n, func(i int) error {
		id := fmt.Sprintf("acct-eb-%s-%03d", suffix, i)
		token := authtest.MintHS256(b, secret, id, 2*time.Hour)
		if _, _, err := p.command(token, "/v1/accounts", map[string]string{"name": "Poster " + id}); err != nil {
			return err
		}
		created, _, err := p.command(token, "/v1/rooms", map[string]string{"name": "Room of " + id})
		if err != nil {
			return err
		}
		if _, _, err := p.command(token, "/v1/rooms/"+created.ID+"/members",
			map[string]string{"account_id": readerID, "role": "member"}); err != nil {
			return fmt.Errorf("add the reader: %w", err)
		}
		rooms[i] = room{id: created.ID, token: token}
		return nil
	})
	if err != nil {
		b.Fatalf("set up %d rooms: %v", n, err)
	}
	b.Logf("registered %d accounts, created their rooms and added the reader to each in %s", n+1,
		time.Since(start).Round(time.Millisecond))
	// The projectors make their first versions live only once they caught up: until then queries answer 503.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err = each(n, func(i int) error {
		s := &sample{room: rooms[i], word: "warm" + randomHex(6)}
		c, _, err := p.command(s.room.token, "/v1/rooms/"+s.room.id+"/messages",
			map[string]string{"text": "warm up " + s.word})
		if err != nil {
			return err
		}
		s.message, s.consistency = c.MessageID, c.ConsistencyToken
		return p.warm(ctx, s)
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("pipeline ready end to end in %s", time.Since(start).Round(time.Millisecond))
	return rooms, reader
}

// each runs f(0), …, f(n-1) at once and returns the first error of any.
func each(n int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for i := range n {
		wg.Go(func() {
			if err := f(i); err != nil {
				once.Do(func() { first = err })
			}
		})
	}
	wg.Wait()
	return first
}

// warm asks for s every 200 ms, with its consistency token, until both read models show it; it fails when ctx
// ends first.
func (p *pipeline) warm(ctx context.Context, s *sample) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		s.ryw = rywRead{}
		p.checkViews(s)
		p.checkSearch(s)
		if s.ryw.visible() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the warm-up message of %s was not visible within 2 minutes (views: %s; search: %s)",
				s.room.id, s.ryw.views.err, s.ryw.search.err)
		case <-tick.C:
		}
	}
}

// command is the writer's answer to a command.
type command struct {
	ID               string `json:"id"`
	ConsistencyToken string `json:"consistency_token"`
	MessageID        string `json:"message_id"`
	Version          int64  `json:"version"` // the aggregate's, after the command
}

// command POSTs body to the writer's path as token's caller and returns the answer and when it arrived; it fails
// unless the writer answers 201 or 200 with a consistency token.
func (p *pipeline) command(token, path string, body any) (command, time.Time, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return command{}, time.Time{}, fmt.Errorf("POST %s: %w", path, err)
	}
	req, err := http.NewRequest(http.MethodPost, p.Writer+path, bytes.NewReader(payload))
	if err != nil {
		return command{}, time.Time{}, fmt.Errorf("POST %s: %w", path, err)
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
	ok := resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK
	if !ok || json.Unmarshal(raw, &c) != nil || c.ConsistencyToken == "" {
		return command{}, time.Time{}, fmt.Errorf("POST %s = %d %.300s, want 201 or 200 with a consistency token",
			path, resp.StatusCode, raw)
	}
	return c, at, nil
}
