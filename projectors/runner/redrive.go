package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/projectors/projection"
)

const (
	// redriveChunk is the most dead letters (or aggregates to unpark) one unit of work of a redrive handles: the
	// memory a redrive holds, whatever the size of the dead-letter topic.
	redriveChunk = 1000
	// redriveRounds bounds how often a redrive reads the dead letters that arrived while it ran before it gives
	// up unparking the remaining aggregates (they stay parked; the next redrive carries on).
	redriveRounds = 5
)

// RedriveReport says what a redrive did with the dead-lettered records.
type RedriveReport struct {
	// Applied events are in the model now; Skipped ones were already there.
	Applied, Skipped int
	// Failed events still do not decode, or the target still refuses them, or they still miss a predecessor;
	// their aggregates stay parked.
	Failed int
	// Unparked aggregates have all their dead-lettered events applied and take new events again.
	Unparked int
	// StillParked aggregates had every dead letter applied but kept receiving new ones while the redrive ran;
	// they stay parked until the next redrive.
	StillParked int
}

// redrive is the state of one Redrive: what it has seen, in ids only (the records are streamed).
type redrive struct {
	r       *Runner
	rep     RedriveReport
	stuck   map[string]bool // aggregates with a dead letter that still fails: they stay parked
	touched map[string]bool // every aggregate with a dead letter
}

// Redrive applies the dead letters of log with the decoding and the target of the code now running, in their
// dead-letter order and in units of work of at most redriveChunk records: an event applies when it is its
// aggregate's next seq, is skipped when already applied, and otherwise (still poison, refused by the target, or
// a gap) leaves its aggregate parked. Then it unparks every aggregate whose dead letters all applied, and only
// those: each unpark locks the aggregates' states (or, for a store without locks, writes them conditionally) and
// reads the topic's end after that, so a dead letter written by a running projector meanwhile is applied first
// (or its aggregate left parked). It fails with the target's or Kafka's errors; what was committed before stays.
func (r *Runner) Redrive(ctx context.Context, log DeadLetterLog) (RedriveReport, error) {
	rd := &redrive{r: r, stuck: map[string]bool{}, touched: map[string]bool{}}
	read := map[int32]int64{}
	ends, err := log.Ends(ctx)
	if err != nil {
		return rd.rep, err
	}
	for round := 0; ; round++ {
		apply := func(records []*kgo.Record) error { return rd.applyChunk(ctx, records) }
		if err := log.Read(ctx, read, ends, redriveChunk, apply); err != nil {
			return rd.rep, err
		}
		read = ends
		pending, err := rd.unpark(ctx, log, read)
		if err != nil {
			return rd.rep, err
		}
		if len(pending) == 0 {
			return rd.rep, nil
		}
		if round == redriveRounds {
			rd.rep.StillParked = len(pending)
			return rd.rep, nil
		}
		// Dead letters arrived while unparking: apply them, then try the aggregates left.
		if ends, err = log.Ends(ctx); err != nil {
			return rd.rep, err
		}
		rd.touched = pending
	}
}

// applyChunk applies one chunk of dead letters in one unit of work: retried at once without an event the target
// refuses for good (whose aggregate then stays parked), with backoff after a transient error.
func (rd *redrive) applyChunk(ctx context.Context, records []*kgo.Record) error {
	batch := make([]decoded, 0, len(records))
	for _, rec := range records {
		batch = append(batch, rd.r.decodeRecord(rec))
	}
	var rep RedriveReport
	err := rd.r.retry(ctx, "redrive dead letters", func(ctx context.Context) error {
		for {
			var err error
			rep, err = rd.tryChunk(ctx, batch)
			var permanent *projection.PermanentError
			if !errors.As(err, &permanent) || rd.stuck[permanent.AggregateID] {
				return err
			}
			rd.stuck[permanent.AggregateID] = true
		}
	})
	if err != nil {
		return err
	}
	rd.rep.Applied += rep.Applied
	rd.rep.Skipped += rep.Skipped
	rd.rep.Failed += rep.Failed
	return nil
}

// tryChunk is one try of applyChunk; it marks the aggregates it finds stuck and returns the counts of the chunk.
func (rd *redrive) tryChunk(ctx context.Context, batch []decoded) (RedriveReport, error) {
	var rep RedriveReport
	tx, err := rd.r.target.Begin(ctx)
	if err != nil {
		return rep, fmt.Errorf("begin redrive: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var ids []string
	for _, d := range batch {
		if d.aggregateID != "" && !slices.Contains(ids, d.aggregateID) {
			ids = append(ids, d.aggregateID)
		}
	}
	states, err := tx.States(ctx, ids)
	if err != nil {
		return rep, fmt.Errorf("read aggregate states: %w", err)
	}
	changed := map[string]projection.State{}
	var apply []projection.Event
	for _, d := range batch {
		st := states[d.aggregateID]
		switch {
		case d.aggregateID == "":
			rep.Failed++
			continue
		case d.err != nil || rd.stuck[d.aggregateID] || d.event.Seq > st.Seq+1:
			rep.Failed++
			rd.stuck[d.aggregateID] = true
		case d.event.Seq <= st.Seq:
			rep.Skipped++
		default:
			apply = append(apply, d.event)
			st.Seq = d.event.Seq
			states[d.aggregateID], changed[d.aggregateID] = st, st
			rep.Applied++
		}
		rd.touched[d.aggregateID] = true
	}
	if err := tx.Apply(ctx, apply); err != nil {
		return rep, fmt.Errorf("apply %d events: %w", len(apply), err)
	}
	if err := tx.Save(ctx, changed, projection.Offsets{}); err != nil {
		return rep, fmt.Errorf("save states: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return rep, fmt.Errorf("commit redrive: %w", err)
	}
	return rep, nil
}

// unpark unparks the touched aggregates that are not stuck, redriveChunk at a time. Each unit of work reads the
// states (locking them where the store can), then the dead-letter topic's end: if it moved past read, a projector
// dead-lettered something meanwhile, possibly of these aggregates, so nothing of that chunk is unparked and the
// aggregates left are returned for another round.
func (rd *redrive) unpark(ctx context.Context, log DeadLetterLog, read map[int32]int64) (map[string]bool, error) {
	var ids []string
	for id := range rd.touched {
		if !rd.stuck[id] {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for start := 0; start < len(ids); start += redriveChunk {
		chunk := ids[start:min(start+redriveChunk, len(ids))]
		var moved bool
		err := rd.r.retry(ctx, "unpark aggregates", func(ctx context.Context) error {
			var err error
			moved, err = rd.unparkChunk(ctx, log, read, chunk)
			return err
		})
		if err != nil {
			return nil, err
		}
		if moved {
			pending := map[string]bool{}
			for _, id := range ids[start:] {
				pending[id] = true
			}
			return pending, nil
		}
	}
	return nil, nil
}

// unparkChunk unparks ids in one unit of work unless the dead-letter topic grew past read; it reports whether
// it did.
func (rd *redrive) unparkChunk(ctx context.Context, log DeadLetterLog, read map[int32]int64, ids []string) (bool, error) {
	tx, err := rd.r.target.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("begin unpark: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	states, err := tx.States(ctx, ids)
	if err != nil {
		return false, fmt.Errorf("read aggregate states: %w", err)
	}
	ends, err := log.Ends(ctx)
	if err != nil {
		return false, err
	}
	if !maps.Equal(ends, read) {
		return true, nil
	}
	changed := map[string]projection.State{}
	for _, id := range ids {
		if st := states[id]; st.Parked {
			st.Parked = false
			changed[id] = st
		}
	}
	if len(changed) == 0 {
		return false, nil
	}
	if err := tx.Save(ctx, changed, projection.Offsets{}); err != nil {
		return false, fmt.Errorf("save states: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("commit unpark: %w", err)
	}
	rd.rep.Unparked += len(changed)
	return false, nil
}
