// Package projectiontest feeds read models in tests the way the runner does, without Kafka: a Journal numbers
// events per aggregate as the writer does and hands them over decoded and upcast, and Apply commits one batch
// through a target's unit of work.
package projectiontest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/schemas"
)

// Journal numbers the events of each aggregate 1, 2, 3… and stamps them one millisecond apart from its start.
type Journal struct {
	tb   testing.TB
	at   time.Time
	seqs map[string]int64
	// Events are the envelopes added so far, as published.
	Events []schemas.Envelope
}

// NewJournal returns a journal whose first event occurs at start.
func NewJournal(tb testing.TB, start time.Time) *Journal {
	return &Journal{tb: tb, at: start, seqs: map[string]int64{}}
}

// Add appends the next event of aggregate id, of eventType with payload (a schemas payload struct), and returns
// it as the runner hands it to a target; it fails the test when the payload does not encode or decode.
func (j *Journal) Add(eventType, id string, payload any) projection.Event {
	j.tb.Helper()
	aggType, ok := schemas.AggregateTypeOf(eventType)
	if !ok {
		j.tb.Fatalf("unknown event type %s", eventType)
	}
	version, _ := schemas.Current(eventType)
	raw, err := json.Marshal(payload)
	if err != nil {
		j.tb.Fatal(err)
	}
	j.seqs[id]++
	env := schemas.Envelope{
		ID: fmt.Sprintf("evt-%d", len(j.Events)), Type: eventType, Version: version, AggregateType: aggType,
		AggregateID: id, Seq: j.seqs[id], OccurredAt: j.at.Add(time.Duration(len(j.Events)) * time.Millisecond),
		Payload: raw,
	}
	j.Events = append(j.Events, env)
	decoded, err := schemas.Decode(env)
	if err != nil {
		j.tb.Fatalf("decode %s: %v", eventType, err)
	}
	return projection.Event{Envelope: env, Payload: decoded, Topic: "t." + aggType, Offset: int64(len(j.Events))}
}

// Seq returns the last seq given to aggregate id (0 for none).
func (j *Journal) Seq(id string) int64 { return j.seqs[id] }

// Apply commits events as one batch the way the runner does (read the states, apply, save the states and the
// next offsets, commit), but without the runner's duplicate filter, so that a target's own defences are
// exercised too. It returns the target's error.
func Apply(ctx context.Context, target projection.Target, events []projection.Event) error {
	tx, err := target.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	ids := map[string]struct{}{}
	for _, ev := range events {
		ids[ev.AggregateID] = struct{}{}
	}
	states, err := tx.States(ctx, slices.Collect(maps.Keys(ids)))
	if err != nil {
		return err
	}
	next := projection.Offsets{}
	for _, ev := range events {
		if ev.Seq > states[ev.AggregateID].Seq {
			states[ev.AggregateID] = projection.State{Seq: ev.Seq}
		}
		next.Set(ev.Topic, ev.Partition, ev.Offset+1)
	}
	if err := tx.Apply(ctx, events); err != nil {
		return err
	}
	if err := tx.Save(ctx, states, next); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// RaceSwitches runs p.Switch(ctx, from, to) for every version of to at once, as processes that all read from
// live would, and returns the one that won; it fails the test unless exactly one succeeded and every other got
// projection.ErrSwitchConflict.
func RaceSwitches(tb testing.TB, ctx context.Context, p projection.Projection, from int, to ...int) int {
	tb.Helper()
	errs := make([]error, len(to))
	var wg sync.WaitGroup
	for i, v := range to {
		wg.Go(func() { errs[i] = p.Switch(ctx, from, v) })
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil && won == 0:
			won = to[i]
		case err == nil:
			tb.Fatalf("switches from %d to %d and to %d both succeeded", from, won, to[i])
		case !errors.Is(err, projection.ErrSwitchConflict):
			tb.Fatalf("switch from %d to %d = %v, want success or ErrSwitchConflict", from, to[i], err)
		}
	}
	if won == 0 {
		tb.Fatalf("no switch from %d succeeded: %v", from, errs)
	}
	return won
}
