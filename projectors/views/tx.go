package views

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cqrses-aws/pipeline/projectors/projection"
)

var _ projection.Tx = (*Tx)(nil)

// Tx is the Postgres transaction of one batch: the rows, the aggregates' states and the offsets commit
// together. It is used by one goroutine.
type Tx struct {
	tx     pgx.Tx
	target *Target
	// seqs holds the stored seq of every aggregate read by States (and advanced by Apply and Save), so that Apply
	// skips what was applied already.
	seqs map[string]int64
}

// States returns the stored state of each id and locks those aggregates until the transaction ends; an id never
// seen gets the zero State (and a row, so that it is locked too).
var Timings = map[string]time.Duration{}
var Explain []string

func (t *Tx) States(ctx context.Context, aggregateIDs []string) (map[string]projection.State, error) {
	defer func(start time.Time) { Timings["States"] += time.Since(start) }(time.Now())
	ids := slices.Sorted(slices.Values(aggregateIDs))
	ids = slices.Compact(ids)
	states := make(map[string]projection.State, len(ids))
	if len(ids) == 0 {
		return states, nil
	}
	b := &pgx.Batch{}
	b.Queue(t.target.sql.lockNewAggregates, ids)
	b.Queue(t.target.sql.selectStates, ids).Query(func(rows pgx.Rows) error {
		var (
			aid string
			st  projection.State
		)
		_, err := pgx.ForEachRow(rows, []any{&aid, &st.Seq, &st.Parked}, func() error {
			states[aid] = st
			t.seqs[aid] = st.Seq
			return nil
		})
		return err
	})
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("read states of %d aggregates in %s: %w", len(ids), t.target.schema, err)
	}
	return states, nil
}

// Apply folds events in memory and writes the result with a few multi-row statements sent in one round trip.
// An event at or below its aggregate's stored seq is skipped, so applying a batch twice changes nothing.
func (t *Tx) Apply(ctx context.Context, events []projection.Event) error {
	if err := t.readMissingSeqs(ctx, events); err != nil {
		return err
	}
	c := newChanges()
	applied := map[string]int64{}
	for _, ev := range events {
		if ev.Seq <= t.seqs[ev.AggregateID] || ev.Seq <= applied[ev.AggregateID] {
			continue
		}
		c.add(ev)
		applied[ev.AggregateID] = ev.Seq
	}
	if os.Getenv("VIEWS_DEBUG") != "" {
		for _, q := range c.statements(&t.target.sql).QueuedQueries {
			start := time.Now()
			if os.Getenv("VIEWS_EXPLAIN") != "" && (q.SQL == t.target.sql.insertMessages || q.SQL == t.target.sql.renameMembers || q.SQL == t.target.sql.updateRooms) && len(events) == 5000 {
				rows, _ := t.tx.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q.SQL, q.Arguments...)
				lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
				if err != nil {
					return err
				}
				Explain = append(Explain, lines...)
				continue
			}
			if _, err := t.tx.Exec(ctx, q.SQL, q.Arguments...); err != nil {
				return err
			}
			v := reflect.ValueOf(t.target.sql)
			for i := range v.NumField() {
				if v.Field(i).String() == q.SQL {
					Timings[v.Type().Field(i).Name] += time.Since(start)
				}
			}
			_ = strings.Fields
		}
		maps.Copy(t.seqs, applied)
		return nil
	}
	if err := t.tx.SendBatch(ctx, c.statements(&t.target.sql)).Close(); err != nil {
		return fmt.Errorf("apply %d events to %s: %w", len(events), t.target.schema, err)
	}
	maps.Copy(t.seqs, applied)
	return nil
}

// readMissingSeqs reads (and locks) the state of the events' aggregates that States did not read.
func (t *Tx) readMissingSeqs(ctx context.Context, events []projection.Event) error {
	var missing []string
	for _, ev := range events {
		if _, ok := t.seqs[ev.AggregateID]; !ok {
			missing = append(missing, ev.AggregateID)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err := t.States(ctx, missing)
	return err
}

// Save records the aggregates' states and the next offsets.
func (t *Tx) Save(ctx context.Context, states map[string]projection.State, next projection.Offsets) error {
	defer func(start time.Time) { Timings["Save"] += time.Since(start) }(time.Now())
	b := &pgx.Batch{}
	if len(states) > 0 {
		ids := slices.Sorted(maps.Keys(states))
		seqs := make([]int64, len(ids))
		parked := make([]bool, len(ids))
		for i, id := range ids {
			seqs[i], parked[i] = states[id].Seq, states[id].Parked
		}
		b.Queue(t.target.sql.saveStates, ids, seqs, parked)
	}
	var (
		topics     []string
		partitions []int32
		offsets    []int64
	)
	for topic, parts := range next {
		for part, off := range parts {
			topics, partitions, offsets = append(topics, topic), append(partitions, part), append(offsets, off)
		}
	}
	if len(topics) > 0 {
		b.Queue(t.target.sql.saveOffsets, topics, partitions, offsets)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("save %d states and %d offsets in %s: %w", len(states), len(topics), t.target.schema, err)
	}
	for id, st := range states {
		t.seqs[id] = st.Seq
	}
	return nil
}

// Commit commits the rows, the states and the offsets at once.
func (t *Tx) Commit(ctx context.Context) error {
	defer func(start time.Time) { Timings["Commit"] += time.Since(start) }(time.Now())
	if err := t.tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit batch to %s: %w", t.target.schema, err)
	}
	return nil
}

// Rollback abandons the batch; after Commit it does nothing.
func (t *Tx) Rollback(ctx context.Context) error {
	if err := t.tx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return fmt.Errorf("roll back batch on %s: %w", t.target.schema, err)
	}
	return nil
}
