package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Loader applies a Plan through the writer's HTTP API, Concurrency commands at a time.
type Loader struct {
	Client      *Client
	Plan        Plan
	Concurrency int
	// RunID makes this run's idempotency keys its own: a re-run is new commands, a retry within it is not.
	RunID string
	// Progress receives one line per phase and per tenth of the messages.
	Progress io.Writer
}

// Counts says what a run did.
type Counts struct {
	AccountsRegistered, AccountsExisting int
	RoomsCreated                         int
	MembersAdded, MembersExisting        int
	Messages, Edits, Deletes             int
	RoomRenames, AccountRenames          int
}

// Report is the outcome of a run: the counts, each room's id (by plan index), and the consistency token of the
// last write to each room.
type Report struct {
	Counts
	RoomIDs    []string
	RoomTokens []string
	Elapsed    time.Duration
}

// Run applies the plan in phases: accounts, rooms, members, messages (with their edits and deletes), renames.
// An account that exists already and a member added already are counted, not errors; any other failure stops
// the run and is returned with the report so far.
func (l *Loader) Run(ctx context.Context) (Report, error) {
	start := time.Now()
	r := &loadRun{Loader: l, versions: make([]int64, len(l.Plan.Rooms))}
	r.rep.RoomIDs, r.rep.RoomTokens = make([]string, len(l.Plan.Rooms)), make([]string, len(l.Plan.Rooms))
	err := r.phases(ctx)
	r.rep.Elapsed = time.Since(start)
	return r.rep, err
}

// loadRun is the state of one Run, shared by its workers.
type loadRun struct {
	*Loader
	mu       sync.Mutex // guards rep and versions
	rep      Report
	versions []int64 // per room, the highest version a command returned
}

func (r *loadRun) phases(ctx context.Context) error {
	for _, phase := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"register accounts", r.accounts},
		{"create rooms", r.rooms},
		{"add members", r.members},
		{"post messages", r.messages},
		{"rename", r.renames},
	} {
		if err := phase.run(ctx); err != nil {
			return fmt.Errorf("%s: %w", phase.name, err)
		}
	}
	return nil
}

func (r *loadRun) count(f func(*Counts)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.rep.Counts)
}

// wrote records a command on room; workers finish out of order, so the token of the highest version is kept.
func (r *loadRun) wrote(room int, res Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if res.Version > r.versions[room] {
		r.versions[room], r.rep.RoomTokens[room] = res.Version, res.ConsistencyToken
	}
}

func (r *loadRun) accounts(ctx context.Context) error {
	accounts := r.Plan.Accounts
	r.say("registering %d accounts", len(accounts))
	return r.each(ctx, len(accounts), func(ctx context.Context, i int) error {
		a := accounts[i]
		_, err := r.Client.Do(ctx, a.ID, http.MethodPost, "/v1/accounts", map[string]string{"name": a.Name}, r.key("account", i))
		switch {
		case err == nil:
			r.count(func(c *Counts) { c.AccountsRegistered++ })
		case IsStatus(err, http.StatusConflict):
			r.count(func(c *Counts) { c.AccountsExisting++ })
		default:
			return err
		}
		return nil
	})
}

func (r *loadRun) rooms(ctx context.Context) error {
	rooms := r.Plan.Rooms
	r.say("creating %d rooms", len(rooms))
	return r.each(ctx, len(rooms), func(ctx context.Context, i int) error {
		res, err := r.Client.Do(ctx, rooms[i].Creator, http.MethodPost, "/v1/rooms", map[string]string{"name": rooms[i].Name}, r.key("room", i))
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.rep.RoomIDs[i] = res.ID
		r.mu.Unlock()
		r.count(func(c *Counts) { c.RoomsCreated++ })
		r.wrote(i, res)
		return nil
	})
}

func (r *loadRun) members(ctx context.Context) error {
	type add struct{ room, member int }
	var adds []add
	for ri, room := range r.Plan.Rooms {
		for mi := range room.Members {
			adds = append(adds, add{ri, mi})
		}
	}
	r.say("adding %d members", len(adds))
	return r.each(ctx, len(adds), func(ctx context.Context, i int) error {
		room := r.Plan.Rooms[adds[i].room]
		m := room.Members[adds[i].member]
		res, err := r.Client.Do(ctx, room.Creator, http.MethodPost, "/v1/rooms/"+r.rep.RoomIDs[adds[i].room]+"/members",
			map[string]string{"account_id": m.AccountID, "role": m.Role}, r.key("member", i))
		switch {
		case err == nil:
			r.count(func(c *Counts) { c.MembersAdded++ })
			r.wrote(adds[i].room, res)
		case IsStatus(err, http.StatusConflict):
			r.count(func(c *Counts) { c.MembersExisting++ })
		default:
			return err
		}
		return nil
	})
}

func (r *loadRun) messages(ctx context.Context) error {
	messages := r.Plan.Messages
	r.say("posting %d messages (with %d workers)", len(messages), r.concurrency())
	var (
		posted    atomic.Int64
		mu        sync.Mutex // guards lastTenth, so each tenth is reported once and in order
		lastTenth int64
		start     = time.Now()
	)
	return r.each(ctx, len(messages), func(ctx context.Context, i int) error {
		m := messages[i]
		base := "/v1/rooms/" + r.rep.RoomIDs[m.Room] + "/messages"
		// Posts carry no Idempotency-Key: on moto every key is one more item the writer's transaction touches,
		// and moto copies each table a transaction touches, whole, so keys would double the cost of the bulk of
		// the load. The price: a post retried after an ambiguous 503 (DynamoDB timed out after committing) may
		// appear twice, which demo data can bear. 429 and contention 503s never appended anything.
		res, err := r.Client.Do(ctx, m.Author, http.MethodPost, base, map[string]string{"text": m.Text}, "")
		if err != nil {
			return err
		}
		r.count(func(c *Counts) { c.Messages++ })
		msg := res.MessageID
		if m.Edit != "" {
			if res, err = r.Client.Do(ctx, m.Author, http.MethodPost, base+"/"+msg+"/edit",
				map[string]string{"text": m.Edit}, r.key("edit", i)); err != nil {
				return err
			}
			r.count(func(c *Counts) { c.Edits++ })
		}
		if m.DeletedBy != "" {
			if res, err = r.Client.Do(ctx, m.DeletedBy, http.MethodDelete, base+"/"+msg, nil, r.key("delete", i)); err != nil {
				return err
			}
			r.count(func(c *Counts) { c.Deletes++ })
		}
		r.wrote(m.Room, res)

		n := posted.Add(1)
		mu.Lock()
		defer mu.Unlock()
		if tenth := n * 10 / int64(len(messages)); tenth > lastTenth {
			lastTenth = tenth
			r.say("  messages: %d/%d (%d%%), %.0f/s, %d requests retried so far",
				n, len(messages), tenth*10, float64(n)/time.Since(start).Seconds(), r.Client.Retries())
		}
		return nil
	})
}

func (r *loadRun) renames(ctx context.Context) error {
	var renames []func(context.Context) error
	for ri, room := range r.Plan.Rooms {
		if room.Rename == "" {
			continue
		}
		renames = append(renames, func(ctx context.Context) error {
			res, err := r.Client.Do(ctx, room.Creator, http.MethodPost, "/v1/rooms/"+r.rep.RoomIDs[ri]+"/rename",
				map[string]string{"name": room.Rename}, r.key("rename-room", ri))
			if err != nil {
				return err
			}
			r.count(func(c *Counts) { c.RoomRenames++ })
			r.wrote(ri, res)
			return nil
		})
	}
	for ai, a := range r.Plan.Accounts {
		if a.Rename == "" {
			continue
		}
		renames = append(renames, func(ctx context.Context) error {
			if _, err := r.Client.Do(ctx, a.ID, http.MethodPost, "/v1/accounts/me/rename",
				map[string]string{"name": a.Rename}, r.key("rename-account", ai)); err != nil {
				return err
			}
			r.count(func(c *Counts) { c.AccountRenames++ })
			return nil
		})
	}
	r.say("renaming %d rooms and accounts", len(renames))
	return r.each(ctx, len(renames), func(ctx context.Context, i int) error { return renames[i](ctx) })
}

// each runs work(0..n-1) on Concurrency workers; the first error cancels the rest and is returned.
func (l *Loader) each(ctx context.Context, n int, work func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(l.concurrency(), max(n, 1)) {
		wg.Go(func() {
			for i := range jobs {
				if err := work(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	// The first worker's error, or the parent context's when it ended first; nil when all went well.
	return context.Cause(ctx)
}

func (l *Loader) concurrency() int { return max(l.Concurrency, 1) }

// key is the idempotency key of one command of this run.
func (l *Loader) key(kind string, i int) string {
	return fmt.Sprintf("demo-%s-%s-%d", l.RunID, kind, i)
}

func (l *Loader) say(format string, args ...any) {
	if l.Progress != nil {
		fmt.Fprintf(l.Progress, format+"\n", args...)
	}
}
