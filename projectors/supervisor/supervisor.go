// Package supervisor runs the versions of the projections: it keeps each projection's live version applied,
// builds a newer version beside it from offset zero (a brand-new projection, new code, or a rebuild), switches
// the stable name once the new version has caught up on every partition, and retires the old version.
package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/runner"
)

// Defaults of Config.
const (
	DefaultPollInterval = 2 * time.Second
	DefaultDrainTimeout = time.Minute
	DefaultPartitions   = 12
)

// Config configures a Supervisor.
type Config struct {
	// Runner is the template of every version's runner; Name and Version are set per version.
	Runner runner.Config
	// BuildBatchSize, when positive, replaces Runner.BatchSize for a version built beside the live one (or
	// while none is live): a replay from offset zero that nobody reads yet, where fewer, larger batches pay a
	// read model's per-batch costs fewer times. The version keeps it once it is live; its batches are then as
	// small as what arrives.
	BuildBatchSize int
	// Partitions is the partition count of the event and dead-letter topics created when missing.
	Partitions int32
	// PollInterval is how often the live version and a build's lag are checked; default DefaultPollInterval.
	PollInterval time.Duration
	// DrainTimeout bounds the wait for an old version's consumers to leave before it is dropped.
	DrainTimeout time.Duration
}

// Supervisor runs and rebuilds projections; its methods may be called concurrently.
type Supervisor struct {
	cfg Config
	adm *kadm.Client
	log *slog.Logger
}

// New returns a supervisor with its own Kafka admin client; it fails when the Kafka configuration is invalid.
func New(cfg Config) (*Supervisor, error) {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = DefaultDrainTimeout
	}
	if cfg.Partitions <= 0 {
		cfg.Partitions = DefaultPartitions
	}
	if cfg.Runner.Logger == nil {
		cfg.Runner.Logger = slog.Default()
	}
	cl, err := kafka.NewClient(cfg.Runner.Kafka)
	if err != nil {
		return nil, err
	}
	return &Supervisor{cfg: cfg, adm: kadm.NewClient(cl), log: cfg.Runner.Logger}, nil
}

// Close releases the Kafka client.
func (s *Supervisor) Close() { s.adm.Close() }

// EnsureTopics creates the event topics and the dead-letter topics of projections when missing.
func (s *Supervisor) EnsureTopics(ctx context.Context, projections ...projection.Projection) error {
	prefix := s.cfg.Runner.Kafka.TopicPrefix
	topics := kafka.EventTopics(prefix, s.cfg.Partitions)
	for _, p := range projections {
		topics = append(topics, kafka.Topic{Name: projection.DLQTopic(prefix, p.Name()), Partitions: 1})
	}
	if err := kafka.EnsureTopics(ctx, s.adm, topics...); err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	return nil
}

// job is one version's runner at work.
type job struct {
	version int
	runner  *runner.Runner
	target  projection.Target
	cancel  context.CancelFunc
	done    chan error
}

// start opens version's target and runs it until the job is stopped. A version being built beside the live one
// (build not nil) is first prepared when its target is a projection.Preparer: see prepare.
func (s *Supervisor) start(ctx context.Context, p projection.Projection, version int, build *building) (*job, error) {
	target, err := p.Open(ctx, version)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", projection.TargetName(p.Name(), version), err)
	}
	if build != nil {
		if err := s.prepare(ctx, p, version, target, build); err != nil {
			return nil, errors.Join(err, target.Close())
		}
	}
	cfg := s.cfg.Runner
	cfg.Name, cfg.Version = p.Name(), version
	if build != nil && s.cfg.BuildBatchSize > 0 {
		cfg.BatchSize = s.cfg.BuildBatchSize
	}
	r, err := runner.New(cfg, target)
	if err != nil {
		return nil, errors.Join(err, target.Close())
	}
	r.SetBuilding(build != nil)
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	j := &job{version: version, runner: r, target: target, cancel: cancel, done: make(chan error, 1)}
	go func() { j.done <- r.Run(runCtx) }()
	return j, nil
}

// stop ends the job gracefully (the batch in hand is finished and committed) and returns its error.
func (j *job) stop() error {
	j.cancel()
	err := <-j.done
	j.done <- err
	return errors.Join(err, j.target.Close())
}

// Lags returns the lag of every partition for version of p.
func (s *Supervisor) lags(ctx context.Context, p projection.Projection, target projection.Target, version int) ([]runner.PartitionLag, error) {
	return runner.Lags(ctx, s.adm, runner.Topics(s.cfg.Runner.Kafka.TopicPrefix), projection.GroupID(p.Name(), version), target)
}

// Run keeps p applied until ctx ends: the live version always; beside it, when there is no live version yet or
// it is older than the code's, the code's version from offset zero, switched in once caught up (the old one is
// then retired); and when another process (a rebuild) switches the stable name, it follows. It returns nil
// after ctx ends and every runner finished its batch, or the first runner's error.
func (s *Supervisor) Run(ctx context.Context, p projection.Projection) error {
	if err := s.EnsureTopics(ctx, p); err != nil {
		return err
	}
	running := map[int]*job{}
	defer func() {
		for _, j := range running {
			_ = j.stop()
		}
	}()
	tick := time.NewTicker(s.cfg.PollInterval)
	defer tick.Stop()
	for {
		if err := s.reconcile(ctx, p, running); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for v, j := range running {
			select {
			case err := <-j.done:
				delete(running, v)
				_ = j.target.Close()
				return fmt.Errorf("%s: %w", projection.TargetName(p.Name(), v), err)
			default:
			}
		}
	}
}

// reconcile starts and stops runners so that the wanted versions run, and switches a caught-up build in.
// Errors reading the state are logged and tried again at the next tick; only a failure to start is returned.
func (s *Supervisor) reconcile(ctx context.Context, p projection.Projection, running map[int]*job) error {
	live, hasLive, err := p.Live(ctx)
	if err != nil {
		s.log.Warn("read the live version failed", "projector", p.Name(), "err", err)
		return nil
	}
	want := map[int]bool{}
	build := 0
	if hasLive {
		want[live] = true
	}
	if !hasLive || live < p.Version() {
		build = p.Version()
		want[build] = true
	}
	// The live version first: a build's horizon is where the live version is.
	for _, v := range slices.Sorted(maps.Keys(want)) {
		if running[v] != nil || (v == build && hasLive && running[live] == nil) {
			continue
		}
		var b *building
		if v == build {
			b = &building{}
			if hasLive {
				b.live, b.liveVersion = running[live].target, live
			}
		}
		j, err := s.start(ctx, p, v, b)
		if err != nil {
			return err
		}
		running[v] = j
		s.log.Info("projector version running", "projector", p.Name(), "version", v, "live", v == live && hasLive)
	}
	for v, j := range running {
		if !want[v] {
			s.log.Info("projector version stopping: no longer live", "projector", p.Name(), "version", v)
			delete(running, v)
			if err := j.stop(); err != nil {
				s.log.Warn("projector version stopped with an error", "projector", p.Name(), "version", v, "err", err)
			}
		}
	}
	for v, j := range running {
		j.runner.SetBuilding(!hasLive || v != live)
	}
	lags := map[int][]runner.PartitionLag{}
	for v, j := range running {
		l, err := s.lags(ctx, p, j.target, v)
		if err != nil {
			s.log.Warn("read lag failed", "projector", p.Name(), "version", v, "err", err)
			continue
		}
		lags[v] = l
		s.cfg.Runner.Metrics.SetLag(p.Name(), v, l)
	}
	if l, ok := lags[build]; ok && build != 0 {
		liveLags, liveOK := lags[live]
		if hasLive && !liveOK {
			return nil
		}
		if caughtUp(l, liveLags) {
			err := s.promote(ctx, p, build, live, hasLive, running)
			switch {
			case errors.Is(err, projection.ErrSwitchConflict):
				// Another process switched first; the next reconcile follows whatever is live now.
				s.log.Info("switch not needed: another process switched first", "projector", p.Name(), "version", build, "err", err)
			case err != nil:
				s.log.Warn("switch failed; trying again", "projector", p.Name(), "version", build, "err", err)
			}
		}
	}
	return nil
}

// caughtUp reports whether a new version may replace the live one: on every partition it has applied at least
// as far as the live version (whose lags are live; nil when there is none, and then the new version must have
// no lag at all). Under a steady stream of writes a lag of exactly 0 is a moment that may never be observed,
// while the live version lags too: switching once the new one is at least as fresh never shows readers older
// data than they saw before, and never a half-built model.
func caughtUp(next, live []runner.PartitionLag) bool {
	if live == nil {
		return runner.CaughtUp(next)
	}
	applied := map[string]int64{}
	for _, l := range live {
		applied[fmt.Sprintf("%s/%d", l.Topic, l.Partition)] = min(l.Committed, l.End)
	}
	for _, l := range next {
		if l.Committed < applied[fmt.Sprintf("%s/%d", l.Topic, l.Partition)] {
			return false
		}
	}
	return true
}

// promote switches p from the live version old (none unless hasOld) to version and retires old; it fails with
// projection.ErrSwitchConflict (wrapped) when another process has switched since old was read.
func (s *Supervisor) promote(ctx context.Context, p projection.Projection, version, old int, hasOld bool, running map[int]*job) error {
	from := 0
	if hasOld {
		from = old
	}
	if version <= from {
		return fmt.Errorf("switch %s to version %d: %w: version %d is live, a newer one", p.Name(), version, projection.ErrSwitchConflict, from)
	}
	if err := p.Switch(ctx, from, version); err != nil {
		return fmt.Errorf("switch %s to version %d: %w", p.Name(), version, err)
	}
	s.log.Info("projector switched", "projector", p.Name(), "version", version)
	if !hasOld || old == version {
		return nil
	}
	if j := running[old]; j != nil {
		delete(running, old)
		if err := j.stop(); err != nil {
			s.log.Warn("old version stopped with an error", "projector", p.Name(), "version", old, "err", err)
		}
	}
	return s.retire(ctx, p, old)
}

// retire waits (up to DrainTimeout) until no consumer of version is left, then drops its target and deletes
// its consumer group. When consumers are still there at the deadline it leaves both and says so.
func (s *Supervisor) retire(ctx context.Context, p projection.Projection, version int) error {
	group := projection.GroupID(p.Name(), version)
	deadline := time.Now().Add(s.cfg.DrainTimeout)
	for {
		described, err := s.adm.DescribeGroups(ctx, group)
		if err == nil {
			if d, ok := described[group]; ok && d.Err == nil && len(d.Members) == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("version %d of %s still has consumers after %s; drop it later with `projectors rebuild`", version, p.Name(), s.cfg.DrainTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(s.cfg.PollInterval / 4):
		}
	}
	if err := p.Drop(ctx, version); err != nil {
		return fmt.Errorf("drop version %d of %s: %w", version, p.Name(), err)
	}
	if _, err := s.adm.DeleteGroups(ctx, group); err != nil {
		s.log.Warn("delete consumer group failed", "group", group, "err", err)
	}
	s.log.Info("projector version dropped", "projector", p.Name(), "version", version)
	return nil
}

// Rebuild builds the next version of p from offset zero into a fresh target while the live version keeps
// serving, switches the stable name once it has caught up on every partition, then retires the old version
// and any older leftover. It returns the new version once the switch is done; an old version that could not be
// retired is reported in the error alongside the version.
func (s *Supervisor) Rebuild(ctx context.Context, p projection.Projection) (int, error) {
	if err := s.EnsureTopics(ctx, p); err != nil {
		return 0, err
	}
	live, hasLive, err := p.Live(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the live version of %s: %w", p.Name(), err)
	}
	versions, err := p.Versions(ctx)
	if err != nil {
		return 0, fmt.Errorf("list versions of %s: %w", p.Name(), err)
	}
	next := max(live, p.Version()-1)
	if len(versions) > 0 {
		next = max(next, slices.Max(versions))
	}
	next++
	var liveTarget projection.Target
	if hasLive {
		if liveTarget, err = p.Open(ctx, live); err != nil {
			return 0, fmt.Errorf("open the live version of %s: %w", p.Name(), err)
		}
		defer liveTarget.Close()
	}
	j, err := s.start(ctx, p, next, &building{live: liveTarget, liveVersion: live})
	if err != nil {
		return 0, err
	}
	s.log.Info("rebuild started", "projector", p.Name(), "version", next)
	running := map[int]*job{next: j}
	defer func() {
		for _, j := range running {
			_ = j.stop()
		}
	}()
	for {
		lags, err := s.lags(ctx, p, j.target, next)
		var liveLags []runner.PartitionLag
		if err == nil && hasLive {
			liveLags, err = s.lags(ctx, p, liveTarget, live)
		}
		if err == nil && caughtUp(lags, liveLags) {
			break
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case err := <-j.done:
			j.done <- err
			return 0, fmt.Errorf("rebuild of %s stopped: %w", p.Name(), err)
		case <-time.After(s.cfg.PollInterval / 4):
		}
	}
	from := 0
	if hasLive {
		from = live
	}
	// A compare-and-set on the version live when the rebuild began: if another process switched meanwhile, this
	// build is not moved over its choice (the build's target is left for the next rebuild to drop).
	if err := p.Switch(ctx, from, next); err != nil {
		return 0, fmt.Errorf("switch %s to version %d: %w", p.Name(), next, err)
	}
	s.log.Info("rebuild switched", "projector", p.Name(), "version", next)
	delete(running, next)
	stopErr := j.stop()
	var errs []error
	for _, v := range versions {
		if v != next {
			errs = append(errs, s.retire(ctx, p, v))
		}
	}
	if stopErr != nil {
		s.log.Warn("rebuild runner stopped with an error", "err", stopErr)
	}
	return next, errors.Join(errs...)
}
