// Package runner consumes the event topics for one version of a projection and applies them in batches: decode
// and upcast, drop duplicates by aggregate seq, fill gaps from the journal (or stop the partition loudly),
// dead-letter poison events and park their aggregate, apply through the target's unit of work, then commit.
package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/schemas"
)

// Defaults of Config.
const (
	DefaultBatchSize  = 5000
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 10 * time.Second
	// attemptTimeout bounds one try of a batch, so that a hung server turns into a retry.
	attemptTimeout = 2 * time.Minute
)

// Config configures a Runner.
type Config struct {
	// Kafka is the broker configuration; TopicPrefix names the event and dead-letter topics.
	Kafka config.Kafka
	// Name and Version identify the projection version: consumer group "<Name>.v<Version>".
	Name    string
	Version int
	// BatchSize is the most records one batch holds; default DefaultBatchSize.
	BatchSize int
	// Journal fills gaps; nil means a gap stops its partition.
	Journal Journal
	// MinBackoff and MaxBackoff bound the delay between retries of a failing batch.
	MinBackoff, MaxBackoff time.Duration
	// Logger receives the runner's logs; nil means slog.Default().
	Logger *slog.Logger
	// Metrics records what the runner does; nil means none.
	Metrics *Metrics
	// ClientOpts are added to the Kafka client's options (tests shorten timeouts with them).
	ClientOpts []kgo.Opt
	// Decode turns an envelope into the event a target applies; nil means DecodeEnvelope. A poison event is one
	// Decode refuses. It is called from several goroutines at once (see decodeAll).
	Decode func(schemas.Envelope) (projection.Event, error)
	// DLQTopic is set by New: "<prefix>.<Name>.dlq".
	DLQTopic string
}

// Runner applies the event topics to one target; Run may be called once.
type Runner struct {
	cfg    Config
	target projection.Target
	log    *slog.Logger
	halted map[topicPartition]bool
	// rejected are the events of the batch in hand that the target refused for good, by aggregate and seq.
	rejected map[eventKey]error
	// building is set while the version is built beside the live one: its events are old history, so their
	// freshness says nothing about what readers see and is not recorded.
	building atomic.Bool
}

// SetBuilding says whether the runner's version is being built beside the live one (true) or is the one
// readers see (false, the default); the supervisor sets it as versions are switched.
func (r *Runner) SetBuilding(b bool) { r.building.Store(b) }

// eventKey names one event of one aggregate.
type eventKey struct {
	aggregateID string
	seq         int64
}

type topicPartition struct {
	topic     string
	partition int32
}

// New returns a runner of target; it fails when cfg is incomplete.
func New(cfg Config, target projection.Target) (*Runner, error) {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Decode == nil {
		cfg.Decode = DecodeEnvelope
	}
	var errs []error
	if cfg.Name == "" || cfg.Version < 1 {
		errs = append(errs, errors.New("runner: a name and a version of at least 1 are required"))
	}
	if target == nil {
		errs = append(errs, errors.New("runner: a target is required"))
	}
	if err := cfg.Kafka.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("runner: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg.DLQTopic = projection.DLQTopic(cfg.Kafka.TopicPrefix, cfg.Name)
	log := cfg.Logger.With("projector", cfg.Name, "version", cfg.Version)
	cfg.Metrics.start(cfg.Name)
	return &Runner{cfg: cfg, target: target, log: log, halted: map[topicPartition]bool{}, rejected: map[eventKey]error{}}, nil
}

// Topics returns the event topics a runner consumes under prefix.
func Topics(prefix string) []string {
	topics := kafka.EventTopics(prefix, 1)
	names := make([]string, len(topics))
	for i, t := range topics {
		names[i] = t.Name
	}
	return names
}

// Run consumes until ctx ends, then finishes the batch in hand, commits it and leaves the group. It returns nil
// after a shutdown, or the error that stopped it (a client that cannot be built, ctx ending while a batch is
// being retried: that batch is not committed and will be delivered again).
func (r *Runner) Run(ctx context.Context) error {
	first := newAccountsFirst(kafka.EventTopic(r.cfg.Kafka.TopicPrefix, schemas.AggregateTypeAccount),
		kafka.EventTopic(r.cfg.Kafka.TopicPrefix, schemas.AggregateTypeRoom))
	cl, err := kafka.NewClient(r.cfg.Kafka, append([]kgo.Opt{
		kgo.ConsumerGroup(projection.GroupID(r.cfg.Name, r.cfg.Version)),
		kgo.ConsumeTopics(Topics(r.cfg.Kafka.TopicPrefix)...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.AdjustFetchOffsetsFn(func(ctx context.Context, assigned map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
			offsets, err := r.adjustOffsets(ctx, assigned)
			if err == nil {
				first.assign(offsets)
			}
			return offsets, err
		}),
		// Fetched records wait in the client's buffer until polled; these bounds keep that buffer (and the
		// process) small during a replay, when the broker always has more to give than a batch takes.
		kgo.FetchMaxBytes(8 << 20),
		kgo.FetchMaxPartitionBytes(1 << 20),
		kgo.RequiredAcks(kgo.AllISRAcks()),
	}, r.cfg.ClientOpts...)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	dlq := kafka.Topic{Name: r.cfg.DLQTopic, Partitions: 1}
	if err := r.retry(ctx, "create the dead-letter topic", func(ctx context.Context) error {
		return kafka.EnsureTopics(ctx, kadm.NewClient(cl), dlq)
	}); err != nil {
		return err
	}
	r.log.Info("projector started", "group", projection.GroupID(r.cfg.Name, r.cfg.Version))
	first.start(cl)
	for ctx.Err() == nil {
		pollCtx, cancel := first.pollContext(ctx)
		fetches := cl.PollRecords(pollCtx, r.cfg.BatchSize)
		cancel()
		if fetches.IsClientClosed() {
			return nil
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
				r.log.Warn("fetch failed", "topic", topic, "partition", partition, "err", err)
			}
		})
		recs := fetches.Records()
		first.observe(recs)
		batch := r.keep(recs)
		if why := first.caughtUp(ctx, len(batch), r.isHalted); why != "" {
			r.log.Info("room events resumed", "why", why)
		}
		if len(batch) > 0 {
			if err := r.process(ctx, cl, batch); err != nil {
				cl.AllowRebalance()
				return err
			}
		}
		cl.AllowRebalance()
	}
	r.log.Info("projector stopped")
	return nil
}

// visibilityDelay is the longest a committed write of target waits before readers see it: zero unless the target
// says otherwise (projection.Delayed).
func visibilityDelay(target projection.Target) time.Duration {
	if d, ok := target.(projection.Delayed); ok {
		return d.VisibilityDelay()
	}
	return 0
}

// isHalted reports whether topic/partition is stopped at a gap.
func (r *Runner) isHalted(topic string, partition int32) bool {
	return r.halted[topicPartition{topic, partition}]
}

// keep drops the records of halted partitions and decodes the others, in order (see decodeAll).
func (r *Runner) keep(recs []*kgo.Record) []decoded {
	kept := make([]*kgo.Record, 0, len(recs))
	for _, rec := range recs {
		if !r.halted[topicPartition{rec.Topic, rec.Partition}] {
			kept = append(kept, rec)
		}
	}
	return r.decodeAll(kept)
}

// adjustOffsets starts each assigned partition at the offset stored with the model, when the target stores
// offsets (then they are the truth: a crash between the model's commit and Kafka's cannot apply a batch twice);
// a partition the model has never seen starts at zero.
func (r *Runner) adjustOffsets(ctx context.Context, assigned map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	var stored projection.Offsets
	err := r.retry(ctx, "read stored offsets", func(ctx context.Context) error {
		var err error
		stored, err = r.target.Offsets(ctx)
		return err
	})
	if err != nil || stored == nil {
		return assigned, err
	}
	for topic, partitions := range assigned {
		for p := range partitions {
			if next, ok := stored[topic][p]; ok {
				partitions[p] = kgo.NewOffset().At(next)
			} else {
				partitions[p] = kgo.NewOffset().AtStart()
			}
		}
	}
	return assigned, nil
}

// process applies one batch, retrying with backoff until it is committed; a gap the journal cannot fill halts
// that partition and the rest of the batch goes on. It returns an error only when ctx ends during retries.
func (r *Runner) process(ctx context.Context, cl *kgo.Client, batch []decoded) error {
	start := time.Now()
	var done plan
	err := r.retry(ctx, "apply batch", func(ctx context.Context) error {
		for {
			p, err := r.attempt(ctx, cl, batch)
			var (
				gap       *gapError
				permanent *projection.PermanentError
			)
			switch {
			case errors.As(err, &gap):
				batch = r.halt(cl, gap, batch)
			case errors.As(err, &permanent) && r.reject(permanent):
				// Tried again at once: the rejected event is dead-lettered this time.
			default:
				done = p
				return err
			}
		}
	})
	clear(r.rejected)
	if err != nil {
		return err
	}
	committed := time.Now()
	r.commitToGroup(ctx, cl, done.next)
	r.traceApplied(batch, done.apply, start)
	visible := committed.Add(visibilityDelay(r.target))
	if r.building.Load() {
		visible = time.Time{}
	}
	r.cfg.Metrics.observe(r.cfg.Name, done, committed.Sub(start), visible)
	return nil
}

// attempt is one try of a batch: decide, dead-letter, apply, save, commit.
func (r *Runner) attempt(ctx context.Context, cl *kgo.Client, batch []decoded) (plan, error) {
	tx, err := r.target.Begin(ctx)
	if err != nil {
		return plan{}, fmt.Errorf("begin batch: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	p, err := r.decide(ctx, tx, batch)
	if err != nil {
		return plan{}, err
	}
	// Dead letters go first: once the batch commits, its offsets move past them.
	if len(p.dlq) > 0 {
		if err := cl.ProduceSync(ctx, p.dlq...).FirstErr(); err != nil {
			return plan{}, fmt.Errorf("produce %d records to %s: %w", len(p.dlq), r.cfg.DLQTopic, err)
		}
		for _, rec := range p.dlq {
			topic, _ := kafka.Header(rec, HeaderDLQTopic)
			reason, _ := kafka.Header(rec, HeaderDLQReason)
			cause, _ := kafka.Header(rec, HeaderDLQError)
			r.log.Error("event dead-lettered", "topic", topic, "aggregate", string(rec.Key), "reason", reason, "err", cause)
		}
	}
	if err := tx.Apply(ctx, p.apply); err != nil {
		return plan{}, fmt.Errorf("apply %d events: %w", len(p.apply), err)
	}
	if err := tx.Save(ctx, p.changed, p.next); err != nil {
		return plan{}, fmt.Errorf("save states and offsets: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return plan{}, fmt.Errorf("commit batch: %w", err)
	}
	return p, nil
}

// reject notes that the target refused an event for good, so that the next try of the batch dead-letters it and
// parks its aggregate; false when it was noted already (the target refuses it again after it was taken out: an
// error of the target's, retried as transient).
func (r *Runner) reject(e *projection.PermanentError) bool {
	k := eventKey{e.AggregateID, e.Seq}
	if _, ok := r.rejected[k]; ok {
		return false
	}
	r.rejected[k] = e.Err
	return true
}

// halt stops the partition of gap's record: it logs loudly, pauses fetching it, and drops that partition's
// records from the record on; its offset stays there, so a restart (after the journal is mended) resumes it.
func (r *Runner) halt(cl *kgo.Client, gap *gapError, batch []decoded) []decoded {
	tp := topicPartition{gap.rec.Topic, gap.rec.Partition}
	r.halted[tp] = true
	cl.PauseFetchPartitions(map[string][]int32{tp.topic: {tp.partition}})
	r.log.Error("partition stopped: gap in an aggregate's events", "topic", tp.topic, "partition", tp.partition,
		"offset", gap.rec.Offset, "err", gap.Error())
	r.cfg.Metrics.halt(r.cfg.Name, tp)
	out := batch[:0:0]
	for _, d := range batch {
		if d.rec.Topic != tp.topic || d.rec.Partition != tp.partition || d.rec.Offset < gap.rec.Offset {
			out = append(out, d)
		}
	}
	return out
}

// commitToGroup commits next to the consumer group. For a target that stores offsets this is for the tools
// that read group offsets; for the others it is the position a restart resumes from (a failure here only means
// events are delivered again, and the seqs stored with the model make them no-ops).
func (r *Runner) commitToGroup(ctx context.Context, cl *kgo.Client, next projection.Offsets) {
	if len(next) == 0 {
		return
	}
	offsets := make(map[string]map[int32]kgo.EpochOffset, len(next))
	for topic, ps := range next {
		offsets[topic] = make(map[int32]kgo.EpochOffset, len(ps))
		for p, n := range ps {
			offsets[topic][p] = kgo.EpochOffset{Epoch: -1, Offset: n}
		}
	}
	var commitErr error
	cl.CommitOffsetsSync(context.WithoutCancel(ctx), offsets, func(_ *kgo.Client, _ *kmsgCommitReq, resp *kmsgCommitResp, err error) {
		commitErr = errors.Join(err, commitResponseErr(resp))
	})
	if commitErr != nil {
		r.log.Warn("commit offsets to the group failed; the events will be delivered again and skipped", "err", commitErr)
	}
}

// retry runs fn until it succeeds, waiting with exponential backoff between tries; each try gets a context that
// survives ctx's end (a batch in hand is finished on shutdown) but not attemptTimeout. It returns ctx's error
// when ctx ends while waiting to retry.
func (r *Runner) retry(ctx context.Context, what string, fn func(context.Context) error) error {
	delay := r.cfg.MinBackoff
	for attempt := 1; ; attempt++ {
		tryCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), attemptTimeout)
		err := fn(tryCtx)
		cancel()
		if err == nil {
			return nil
		}
		r.cfg.Metrics.retried(r.cfg.Name)
		r.log.Warn(what+" failed; retrying", "attempt", attempt, "in", delay, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: gave up at shutdown: %w", what, err)
		case <-time.After(delay):
		}
		delay = min(2*delay, r.cfg.MaxBackoff)
	}
}
