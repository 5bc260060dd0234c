// Package progress wakes the queries that wait until a read model has applied a write (read-your-writes). One
// Watcher per read model and process reads the applied seqs of every waiting aggregate in one query per round;
// rounds are started by the projector's progress (a Postgres notification) or by new waiters, never by a
// polling loop per request.
package progress

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ReadFunc returns the applied seq of each of ids that the read model knows; an id it never applied is absent.
type ReadFunc func(ctx context.Context, ids []string) (map[string]int64, error)

// Config configures a Watcher.
type Config struct {
	// Read reads the applied seqs (required).
	Read ReadFunc
	// Interval is how often a round runs while anyone waits and nothing else started one: the safety net of a
	// notified read model, the pace of one without notifications. Default 1 s.
	Interval time.Duration
	// OnError is told of a failed round (the waiters keep waiting); nil ignores failures.
	OnError func(error)
}

// Watcher lets requests Wait until an aggregate's seq is applied. Its methods are safe for concurrent use; Run
// must be running for waits to end other than by their context.
type Watcher struct {
	cfg  Config
	kick chan struct{}

	mu      sync.Mutex
	waiting map[string][]*waiter
}

type waiter struct {
	seq  int64
	done chan struct{}
}

// New returns a watcher; it fails when cfg.Read is nil.
func New(cfg Config) (*Watcher, error) {
	if cfg.Read == nil {
		return nil, errors.New("progress: Config.Read is required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	return &Watcher{cfg: cfg, kick: make(chan struct{}, 1), waiting: map[string][]*waiter{}}, nil
}

// Notify starts a round soon: call it when the read model may have progressed. It never blocks.
func (w *Watcher) Notify() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Wait returns true once the read model has applied aggregateID up to seq, or false when ctx ends first (the
// caller's bound on the wait).
func (w *Watcher) Wait(ctx context.Context, aggregateID string, seq int64) bool {
	wt := &waiter{seq: seq, done: make(chan struct{})}
	w.mu.Lock()
	w.waiting[aggregateID] = append(w.waiting[aggregateID], wt)
	w.mu.Unlock()
	w.Notify()
	select {
	case <-wt.done:
		return true
	case <-ctx.Done():
		w.forget(aggregateID, wt)
		// A round may have woken it in between.
		select {
		case <-wt.done:
			return true
		default:
			return false
		}
	}
}

// Waiting returns the number of requests waiting.
func (w *Watcher) Waiting() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, ws := range w.waiting {
		n += len(ws)
	}
	return n
}

func (w *Watcher) forget(id string, wt *waiter) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ws := w.waiting[id]
	for i, x := range ws {
		if x == wt {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(w.waiting, id)
	} else {
		w.waiting[id] = ws
	}
}

// Run runs rounds until ctx ends: on Notify, on a new waiter, and every Interval while anyone waits. It
// returns nil when ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	tick := time.NewTicker(w.cfg.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.kick:
		case <-tick.C:
		}
		w.round(ctx)
	}
}

// round reads the seqs of the waiting aggregates once and wakes the waiters whose seq is applied.
func (w *Watcher) round(ctx context.Context) {
	w.mu.Lock()
	ids := make([]string, 0, len(w.waiting))
	for id := range w.waiting {
		ids = append(ids, id)
	}
	w.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	seqs, err := w.cfg.Read(ctx, ids)
	if err != nil {
		if w.cfg.OnError != nil && ctx.Err() == nil {
			w.cfg.OnError(err)
		}
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for id, applied := range seqs {
		ws := w.waiting[id]
		kept := ws[:0]
		for _, wt := range ws {
			if wt.seq <= applied {
				close(wt.done)
			} else {
				kept = append(kept, wt)
			}
		}
		if len(kept) == 0 {
			delete(w.waiting, id)
		} else {
			w.waiting[id] = kept
		}
	}
}
