package views

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cqrses-aws/pipeline/projectors/projection"
)

var _ projection.Tx = (*Tx)(nil)

// Tx is the Postgres transaction of one batch: the rows, the aggregates' states and the offsets commit
// together. It is used by one goroutine.
type Tx struct {
	tx     pgx.Tx
	target *Target
	// seqs holds the stored seq of every aggregate States read (and that Apply and Save advanced), so that Apply
	// skips what was applied already; the aggregates in it have a row, locked by this transaction.
	seqs map[string]int64
}

// States returns the stored state of each id and locks those aggregates until the transaction ends; an id never
// seen gets the zero State (and a row, so that it is locked too).
func (t *Tx) States(ctx context.Context, aggregateIDs []string) (map[string]projection.State, error) {
	ids := slices.Compact(slices.Sorted(slices.Values(aggregateIDs)))
	states := make(map[string]projection.State, len(ids))
	if err := t.readStates(ctx, ids, states); err != nil {
		return nil, fmt.Errorf("read states of %d aggregates in %s: %w", len(ids), t.target.schema, err)
	}
	return states, nil
}

// readStates locks and reads the rows of ids, inserting the missing ones; an id whose row another transaction
// inserted meanwhile is read (and locked) again.
func (t *Tx) readStates(ctx context.Context, ids []string, states map[string]projection.State) error {
	for len(ids) > 0 {
		rows, _ := t.tx.Query(ctx, t.target.sql.selectStates, ids)
		var (
			aid string
			st  projection.State
		)
		if _, err := pgx.ForEachRow(rows, []any{&aid, &st.Seq, &st.Parked}, func() error {
			states[aid] = st
			t.seqs[aid] = st.Seq
			return nil
		}); err != nil {
			return err
		}
		var missing []string
		for _, id := range ids {
			if _, ok := states[id]; !ok {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		rows, _ = t.tx.Query(ctx, t.target.sql.insertStates, missing)
		inserted, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, id := range inserted {
			states[id] = projection.State{}
			t.seqs[id] = 0
		}
		ids = slices.DeleteFunc(missing, func(id string) bool { _, ok := states[id]; return ok })
	}
	return nil
}

// Apply folds events in memory and writes the result in three round trips: one that locks the names it copies
// and reads what the writes depend on, one batch of multi-row statements, one COPY of the new messages. An event
// at or below its aggregate's stored seq is skipped, so applying a batch twice changes nothing.
func (t *Tx) Apply(ctx context.Context, events []projection.Event) error {
	if err := t.readMissingSeqs(ctx, events); err != nil {
		return fmt.Errorf("apply %d events to %s: %w", len(events), t.target.schema, err)
	}
	c := newChanges()
	applied := map[string]int64{}
	for _, ev := range events {
		if ev.Seq <= t.seqs[ev.AggregateID] || ev.Seq <= applied[ev.AggregateID] {
			continue
		}
		if err := storable(ev); err != nil {
			return projection.Permanent(ev, err)
		}
		c.add(ev)
		applied[ev.AggregateID] = ev.Seq
	}
	if err := t.write(ctx, c); err != nil {
		return fmt.Errorf("apply %d events to %s: %w", len(events), t.target.schema, err)
	}
	maps.Copy(t.seqs, applied)
	return nil
}

func (t *Tx) write(ctx context.Context, c *changes) error {
	st, err := t.readStored(ctx, c)
	if err != nil {
		return err
	}
	w := c.planRooms(st)
	live, err := t.writeRooms(ctx, w)
	if err != nil {
		return err
	}
	c.planRows(w, st, live)
	b := w.rowBatch(&t.target.sql)
	if len(w.newMessages) > 0 {
		b.Queue("SAVEPOINT copy_messages")
	}
	if b.Len() > 0 {
		if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
	}
	return t.copyMessages(ctx, w.newMessages)
}

// writeRooms writes the renames and the rooms, and returns the rooms that exist and had not seen the batch.
func (t *Tx) writeRooms(ctx context.Context, w *writes) (map[string]bool, error) {
	sql := &t.target.sql
	b := w.roomBatch(sql)
	live := map[string]bool{}
	if u := w.rooms; len(u.ids) > 0 {
		b.Queue(sql.updateRooms, u.ids, u.names, u.lastMessageAt, u.versions, u.membersDelta).Query(func(rows pgx.Rows) error {
			var id string
			_, err := pgx.ForEachRow(rows, []any{&id}, func() error { live[id] = true; return nil })
			return err
		})
	}
	if b.Len() == 0 {
		return live, nil
	}
	return live, t.tx.SendBatch(ctx, b).Close()
}

// copyMessages copies the new messages, after the savepoint write queued. Message ids are unique, so the COPY
// nearly always succeeds; when one exists already (a message posted twice, which readmodel ignores), it rolls
// back to the savepoint and inserts them skipping those.
func (t *Tx) copyMessages(ctx context.Context, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	_, err := t.tx.CopyFrom(ctx, pgx.Identifier{t.target.schema, "messages"}, messageColumns, pgx.CopyFromRows(rows))
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != codeUniqueViolation {
		if err != nil {
			return fmt.Errorf("copy %d messages: %w", len(rows), err)
		}
		return nil
	}
	cols := make([][]any, len(messageColumns))
	for _, row := range rows {
		for i, v := range row {
			cols[i] = append(cols[i], v)
		}
	}
	b := &pgx.Batch{}
	b.Queue("ROLLBACK TO SAVEPOINT copy_messages")
	b.Queue(t.target.sql.insertMessages, texts(cols[0]), texts(cols[1]), texts(cols[2]), texts(cols[3]), texts(cols[4]),
		cols[5], cols[6])
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("insert %d messages: %w", len(rows), err)
	}
	return nil
}

const codeUniqueViolation = "23505"

func texts(values []any) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = v.(string)
	}
	return out
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
	b := &pgx.Batch{}
	// Rows States read exist: a plain update. Others (Save without States) need an upsert.
	var known, unknown stateRows
	for _, id := range slices.Sorted(maps.Keys(states)) {
		if _, ok := t.seqs[id]; ok {
			known.add(id, states[id])
		} else {
			unknown.add(id, states[id])
		}
	}
	if len(known.ids) > 0 {
		b.Queue(t.target.sql.updateStates, known.ids, known.seqs, known.parked)
	}
	if len(unknown.ids) > 0 {
		b.Queue(t.target.sql.upsertStates, unknown.ids, unknown.seqs, unknown.parked)
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
	if len(states) > 0 {
		b.Queue("SELECT pg_notify($1, $2)", t.target.channel, t.target.schema)
	}
	if err := t.tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("save %d states and %d offsets in %s: %w", len(states), len(topics), t.target.schema, err)
	}
	for id, st := range states {
		t.seqs[id] = st.Seq
	}
	return nil
}

type stateRows struct {
	ids    []string
	seqs   []int64
	parked []bool
}

func (r *stateRows) add(id string, st projection.State) {
	r.ids, r.seqs, r.parked = append(r.ids, id), append(r.seqs, st.Seq), append(r.parked, st.Parked)
}

// Commit commits the rows, the states and the offsets at once.
func (t *Tx) Commit(ctx context.Context) error {
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
