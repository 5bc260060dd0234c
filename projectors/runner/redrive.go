package runner

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/projectors/projection"
)

// RedriveReport says what a redrive did with the dead-lettered records.
type RedriveReport struct {
	// Applied events are in the model now; Skipped ones were already there.
	Applied, Skipped int
	// Failed events still do not decode (or still miss a predecessor); their aggregates stay parked.
	Failed int
	// Unparked aggregates have all their dead-lettered events applied and take new events again.
	Unparked int
}

// Redrive applies dead-lettered records (in their dead-letter order) to target in one unit of work, with the
// decoding of the code now running: an event applies when it is its aggregate's next seq, is skipped when
// already applied, and otherwise (still poison, or a gap) leaves its aggregate parked. Aggregates whose events
// all applied are unparked. Records whose aggregate is not parked are applied the same way (a redrive of an
// event whose aggregate was never parked is harmless). It fails with the target's errors; nothing is applied
// then.
func (r *Runner) Redrive(ctx context.Context, records []*kgo.Record) (RedriveReport, error) {
	var rep RedriveReport
	tx, err := r.target.Begin(ctx)
	if err != nil {
		return rep, fmt.Errorf("begin redrive: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	batch := make([]decoded, 0, len(records))
	var ids []string
	seen := map[string]bool{}
	for _, rec := range records {
		d := r.decodeRecord(rec)
		if d.aggregateID != "" && !seen[d.aggregateID] {
			seen[d.aggregateID] = true
			ids = append(ids, d.aggregateID)
		}
		batch = append(batch, d)
	}
	states, err := tx.States(ctx, ids)
	if err != nil {
		return rep, fmt.Errorf("read aggregate states: %w", err)
	}
	stuck := map[string]bool{}
	changed := map[string]projection.State{}
	var apply []projection.Event
	for _, d := range batch {
		st := states[d.aggregateID]
		switch {
		case d.aggregateID == "":
			rep.Failed++
		case d.err != nil || stuck[d.aggregateID] || d.event.Seq > st.Seq+1:
			rep.Failed++
			stuck[d.aggregateID] = true
		case d.event.Seq <= st.Seq:
			rep.Skipped++
		default:
			apply = append(apply, d.event)
			st.Seq = d.event.Seq
			states[d.aggregateID], changed[d.aggregateID] = st, st
			rep.Applied++
		}
	}
	for id, st := range states {
		if st.Parked && !stuck[id] {
			st.Parked = false
			changed[id] = st
			rep.Unparked++
		}
	}
	if err := tx.Apply(ctx, apply); err != nil {
		return RedriveReport{}, fmt.Errorf("apply %d events: %w", len(apply), err)
	}
	if err := tx.Save(ctx, changed, projection.Offsets{}); err != nil {
		return RedriveReport{}, fmt.Errorf("save states: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return RedriveReport{}, fmt.Errorf("commit redrive: %w", err)
	}
	return rep, nil
}
