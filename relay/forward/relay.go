// Package forward relays a journal table's stream to Kafka: it shares the stream's shards with the other relay
// instances through leases, runs one reader per shard it holds, publishes each shard's events in order and
// checkpoints a position only after Kafka acknowledged every event up to it. A crash re-publishes, never loses;
// consumers dedupe by (aggregate id, seq).
package forward

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/relay/lease"
	"github.com/cqrses-aws/pipeline/relay/stream"
)

// Config tunes a Relay; zero durations take the defaults noted.
type Config struct {
	// Table is the journal table whose stream is relayed (required).
	Table string
	// TopicPrefix starts every topic name, e.g. "chat" (required).
	TopicPrefix string
	// Owner names this instance in the leases (default: host name, process id and a random suffix).
	Owner string
	// LeaseTTL is how long a lease lasts unrenewed (default 10s); a dead instance's shards are taken over after
	// it. Leases are renewed every third of it, on a schedule apart from ScanEvery's.
	LeaseTTL time.Duration
	// ScanEvery is how often shards and leases are looked at to take free or expired leases (default 2s).
	ScanEvery time.Duration
	// IdleWait is the pause after an empty page of an open shard that gave no record within busyWindow (default
	// 250ms: the pace of AWS Lambda's own stream polling, so an idle table costs four requests a second a shard).
	IdleWait time.Duration
	// BusyWait is the pause after an empty page of a shard that gave records within busyWindow (default 50ms): while
	// writes flow, the next one is a few milliseconds away, and a quarter-second pause would be most of its
	// latency to the read models. Never longer than IdleWait.
	BusyWait time.Duration
	// ShutdownGrace bounds how long a shutdown waits for the in-flight pages (default 10s).
	ShutdownGrace time.Duration
}

func (c *Config) applyDefaults() {
	if c.Owner == "" {
		host, _ := os.Hostname()
		c.Owner = host + "-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatUint(rand.Uint64()%1e6, 10)
	}
	orDefault(&c.LeaseTTL, 10*time.Second)
	orDefault(&c.ScanEvery, 2*time.Second)
	orDefault(&c.IdleWait, 250*time.Millisecond)
	orDefault(&c.BusyWait, 50*time.Millisecond)
	c.BusyWait = min(c.BusyWait, c.IdleWait)
	orDefault(&c.ShutdownGrace, 10*time.Second)
}

// busyWindow is how long after its last record a shard counts as busy (see Config.BusyWait).
const busyWindow = time.Second

// emptyPagePause is how long a reader waits after an empty page when the shard last gave records at last (zero:
// never): BusyWait within busyWindow of it, else IdleWait.
func (c *Config) emptyPagePause(last, now time.Time) time.Duration {
	if !last.IsZero() && now.Sub(last) < busyWindow {
		return c.BusyWait
	}
	return c.IdleWait
}

// orDefault sets *d to def when it is not positive.
func orDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// Relay is one relay instance. Run it once.
type Relay struct {
	cfg     Config
	src     stream.Source
	leases  *lease.Table
	pub     Publisher
	metrics *Metrics
	log     *slog.Logger
	enc     *kafka.EventEncoder

	mu      sync.Mutex
	readers map[string]*reader
}

// New returns a relay reading through src, leasing through leases and publishing through pub to the event
// topics of cfg.TopicPrefix (which must exist); it fails when cfg lacks the table or the prefix.
func New(cfg Config, src stream.Source, leases *lease.Table, pub Publisher, m *Metrics, log *slog.Logger) (*Relay, error) {
	if cfg.Table == "" || cfg.TopicPrefix == "" {
		return nil, errors.New("relay: journal table and topic prefix are required")
	}
	cfg.applyDefaults()
	return &Relay{
		cfg: cfg, src: src, leases: leases, pub: pub, metrics: m, log: log.With("owner", cfg.Owner),
		enc: kafka.NewEventEncoder(cfg.TopicPrefix), readers: map[string]*reader{},
	}, nil
}

// Owner returns the name this instance holds leases under.
func (r *Relay) Owner() string { return r.cfg.Owner }

// Owned returns the ids of the shards this instance reads now, sorted.
func (r *Relay) Owned() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]string, 0, len(r.readers))
	for id := range r.readers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Run relays until ctx ends, then lets the readers finish and checkpoint their in-flight pages (within
// ShutdownGrace) and releases their leases. It returns nil after such a shutdown, and an error when a shard
// holds an event that cannot be published: the relay stops rather than skip it.
//
// Discovery (listing shards, taking leases) and renewal run on goroutines of their own, so that a slow or
// retried stream listing never delays a renewal past the lease's expiry.
func (r *Relay) Run(ctx context.Context) error {
	arn, err := r.streamARN(ctx)
	if err != nil {
		return nil // ctx ended while waiting for the stream
	}
	r.log.Info("relaying stream", "stream", arn, "table", r.cfg.Table)
	// Renewal outlives ctx: the readers still hold their leases while they finish their pages in shutdown.
	stopRenewing := r.startRenewing(context.WithoutCancel(ctx))
	defer stopRenewing()

	var (
		readers sync.WaitGroup
		fatal   = make(chan error, 1)
	)
	discovering, stopDiscovering := context.WithCancel(ctx)
	defer stopDiscovering()
	discovered := make(chan struct{})
	go func() {
		defer close(discovered)
		r.discover(discovering, arn, &readers, fatal)
	}()

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-fatal:
		r.log.Error("relay stopping: an event cannot be published", "error", runErr)
	}
	stopDiscovering()
	<-discovered // no reader starts from now on, so waiting for the readers cannot race with a new one
	r.shutdown(&readers, runErr)
	return runErr
}

// discover takes leases now, every ScanEvery and whenever a shard was read to its end (its children may start
// then), until ctx ends. The readers it starts are added to readers and report a fatal error on fatal.
func (r *Relay) discover(ctx context.Context, arn string, readers *sync.WaitGroup, fatal chan<- error) {
	finished := make(chan struct{}, 1)
	scan := time.NewTicker(r.cfg.ScanEvery)
	defer scan.Stop()
	for {
		r.assign(ctx, arn, readers, fatal, finished)
		select {
		case <-ctx.Done():
			return
		case <-scan.C:
		case <-finished:
		}
	}
}

// streamARN waits until the journal table and its stream exist; it fails only when ctx ends.
func (r *Relay) streamARN(ctx context.Context) (string, error) {
	retry := backoff{min: 200 * time.Millisecond, max: 5 * time.Second}
	for {
		arn, err := r.src.StreamARN(ctx, r.cfg.Table)
		if err == nil {
			return arn, nil
		}
		delay := retry.next()
		r.log.Warn("journal stream not found yet; retrying", "table", r.cfg.Table, "retry_in", delay, "error", err)
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(delay):
		}
	}
}

// shutdown waits for the readers to finish their pages, cutting them short after the grace period (or at once
// after a fatal error), and for their leases to be released.
func (r *Relay) shutdown(wg *sync.WaitGroup, fatal error) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	grace := r.cfg.ShutdownGrace
	if fatal != nil {
		grace = 0
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	r.mu.Lock()
	for _, rd := range r.readers {
		rd.cancel(errors.New("relay: shutdown grace period over"))
	}
	r.mu.Unlock()
	<-done
}

// assign looks at the shards and leases and takes the leases this instance should read: shards not finished
// whose parent is finished (or gone), up to an even share among the live instances, free ones first, then at
// most one from an instance holding more than its share.
func (r *Relay) assign(ctx context.Context, arn string, wg *sync.WaitGroup, fatal chan<- error, finished chan<- struct{}) {
	if ctx.Err() != nil {
		return
	}
	shards, err := r.src.Shards(ctx, arn)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("list shards failed", "kind", r.countStreamError(err), "error", err)
		}
		return
	}
	list, err := r.leases.List(ctx, arn)
	if err != nil {
		r.log.Warn("list leases failed", "error", err)
		return
	}
	leases := make(map[string]*lease.Lease, len(list))
	for i := range list {
		leases[list[i].ShardID] = &list[i]
	}
	r.forget(ctx, shards, list)
	eligible := readable(shards, leases)
	now := time.Now()
	owners := map[string][]stream.Shard{r.cfg.Owner: nil}
	for _, s := range eligible {
		if l := leases[s.ID]; l != nil && l.Held(now) && l.Owner != r.cfg.Owner {
			owners[l.Owner] = append(owners[l.Owner], s)
		}
	}
	target := (len(eligible) + len(owners) - 1) / len(owners)
	mine := len(r.Owned())
	var free []stream.Shard
	for _, s := range eligible {
		if l := leases[s.ID]; !r.reading(s.ID) && (l == nil || !l.Held(now) || l.Owner == r.cfg.Owner) {
			free = append(free, s)
		}
	}
	// The free leases are taken a share at a time, all of a share at once: at start, a relay reads its shards
	// after one lease write's time, not one per shard. A take lost to a faster instance leaves room for the next.
	for mine < target && len(free) > 0 {
		share := free[:min(target-mine, len(free))]
		free = free[len(share):]
		var (
			taking sync.WaitGroup
			taken  atomic.Int32
		)
		for _, s := range share {
			taking.Go(func() {
				if r.take(ctx, arn, s, leases[s.ID], wg, fatal, finished) {
					taken.Add(1)
				}
			})
		}
		taking.Wait()
		mine += int(taken.Load())
	}
	if mine >= target {
		return
	}
	var richest string
	for owner, held := range owners {
		if owner != r.cfg.Owner && len(held) > target && (richest == "" || len(held) > len(owners[richest])) {
			richest = owner
		}
	}
	if richest != "" {
		s := owners[richest][0]
		r.log.Info("taking a shard over for balance", "shard", s.ID, "from", richest)
		r.take(ctx, arn, s, leases[s.ID], wg, fatal, finished)
	}
}

// forget deletes the leases of finished shards that are no longer in the stream: their records are gone and
// their children are readable without them.
func (r *Relay) forget(ctx context.Context, shards []stream.Shard, leases []lease.Lease) {
	present := make(map[string]bool, len(shards))
	for _, s := range shards {
		present[s.ID] = true
	}
	for _, l := range leases {
		if !l.Finished || present[l.ShardID] {
			continue
		}
		if err := r.leases.Delete(ctx, l); err != nil && !errors.Is(err, lease.ErrLost) && ctx.Err() == nil {
			r.log.Warn("delete the lease of a shard gone from the stream failed", "shard", l.ShardID, "error", err)
		}
	}
}

// readable returns the shards to read: not finished, and either a root, or a child whose parent is finished or
// no longer in the stream.
func readable(shards []stream.Shard, leases map[string]*lease.Lease) []stream.Shard {
	present := make(map[string]bool, len(shards))
	for _, s := range shards {
		present[s.ID] = true
	}
	var out []stream.Shard
	for _, s := range shards {
		if l := leases[s.ID]; l != nil && l.Finished {
			continue
		}
		if s.ParentID != "" && present[s.ParentID] {
			if p := leases[s.ParentID]; p == nil || !p.Finished {
				continue
			}
		}
		out = append(out, s)
	}
	return out
}

func (r *Relay) reading(shardID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.readers[shardID]
	return ok
}

// take takes the shard's lease (seen as last listed, nil when none) and starts its reader; false when another
// instance was faster or the lease table failed.
func (r *Relay) take(ctx context.Context, arn string, s stream.Shard, seen *lease.Lease, wg *sync.WaitGroup,
	fatal chan<- error, finished chan<- struct{},
) bool {
	l, err := r.leases.Take(ctx, arn, s.ID, s.ParentID, r.cfg.Owner, r.cfg.LeaseTTL, seen)
	if err != nil {
		if !errors.Is(err, lease.ErrLost) && ctx.Err() == nil {
			r.log.Warn("take lease failed", "shard", s.ID, "error", err)
		}
		return false
	}
	work, cancel := context.WithCancelCause(context.Background())
	rd := &reader{r: r, log: r.log, stop: ctx, work: work, cancel: cancel, lease: l}
	r.mu.Lock()
	r.readers[s.ID] = rd
	r.metrics.shardsOwned.Set(float64(len(r.readers)))
	r.mu.Unlock()
	r.log.Info("reading shard", "shard", s.ID, "parent", s.ParentID, "checkpoint", l.Checkpoint)
	wg.Go(func() {
		err := rd.run()
		r.mu.Lock()
		delete(r.readers, s.ID)
		r.metrics.shardsOwned.Set(float64(len(r.readers)))
		r.mu.Unlock()
		// Cancelled before the release, so that a renewal refused because of the release sees the reader
		// ended and does not count it as a lost lease. The cause of an earlier cancellation is kept.
		cancel(nil)
		// A finished shard's lease is kept, not released: no instance takes a finished lease again, and forget
		// deletes it once the shard has left the stream.
		if !errors.Is(context.Cause(work), lease.ErrLost) && !rd.finished {
			r.release(rd.current())
		}
		switch {
		case err != nil:
			select {
			case fatal <- err:
			default:
			}
		case rd.finished:
			select {
			case finished <- struct{}{}:
			default:
			}
		}
	})
	return true
}

// release gives a lease back so that another instance may take the shard at once.
func (r *Relay) release(l lease.Lease) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.leases.Release(ctx, l); err != nil && !errors.Is(err, lease.ErrLost) {
		r.log.Warn("release lease failed; it will expire", "shard", l.ShardID, "error", err)
	}
}

// countStreamError counts a failed stream call in relay_stream_errors_total and returns its kind: expired,
// trimmed, throttled or other.
func (r *Relay) countStreamError(err error) string {
	kind := "other"
	switch {
	case errors.Is(err, stream.ErrExpiredIterator):
		kind = "expired"
	case errors.Is(err, stream.ErrTrimmed):
		kind = "trimmed"
	case errors.Is(err, stream.ErrThrottled):
		kind = "throttled"
	}
	r.metrics.streamErrors.WithLabelValues(kind).Inc()
	return kind
}
