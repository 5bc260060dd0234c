package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/projectors/projection"
)

// Journal reads an aggregate's events from the journal, to fill a gap in what Kafka delivered.
// eventstore.Store implements it.
type Journal interface {
	// Load returns the aggregate's events with seq > afterSeq in ascending order; it returns
	// eventstore.ErrUnavailable (wrapped) when the journal cannot be reached, which the runner retries.
	Load(ctx context.Context, aggregateID string, afterSeq int64) ([]eventstore.Record, error)
}

// The headers a dead-lettered record carries besides the original ones.
const (
	HeaderDLQError     = "dlq_error"
	HeaderDLQReason    = "dlq_reason"
	HeaderDLQTopic     = "dlq_topic"
	HeaderDLQPartition = "dlq_partition"
	HeaderDLQOffset    = "dlq_offset"
	HeaderDLQProjector = "dlq_projector"
)

// The reasons a record is dead-lettered.
const (
	// ReasonPoison: the record does not decode (malformed, unknown type or version, bad payload).
	ReasonPoison = "poison"
	// ReasonParked: an earlier event of the same aggregate is in the dead-letter topic, so this one follows it to
	// keep the aggregate's order.
	ReasonParked = "parked"
	// ReasonRejected: the target refused the event as one that can never apply (a projection.PermanentError).
	ReasonRejected = "rejected"
)

// gapError is a hole in an aggregate's seqs that the journal could not fill: the partition stops at the
// record that revealed it.
type gapError struct {
	rec       *kgo.Record
	aggregate string
	have, got int64
	cause     error
}

func (e *gapError) Error() string {
	return fmt.Sprintf("gap in %s: applied up to seq %d, %s/%d@%d carries seq %d: %v",
		e.aggregate, e.have, e.rec.Topic, e.rec.Partition, e.rec.Offset, e.got, e.cause)
}

// errNoJournal is the cause of a gap when the runner has no journal to fill it from.
var errNoJournal = errors.New("no journal configured to fetch the missing events")

// plan is what one batch does once decided against the stored states.
type plan struct {
	apply     []projection.Event
	dlq       []*kgo.Record
	changed   map[string]projection.State
	next      projection.Offsets
	dups      int
	gapFilled int
}

// decide reads the states of the batch's aggregates in tx and sorts every record: applied, duplicate, filled
// from the journal first (gap), or dead-lettered (poison, or parked behind an earlier poison event). It fails
// with a *gapError when a gap cannot be filled, and with tx's or the journal's errors (transient).
func (r *Runner) decide(ctx context.Context, tx projection.Tx, batch []decoded) (plan, error) {
	ids := make([]string, 0, len(batch))
	seen := make(map[string]struct{}, len(batch))
	for _, d := range batch {
		if _, ok := seen[d.aggregateID]; !ok && d.aggregateID != "" {
			seen[d.aggregateID] = struct{}{}
			ids = append(ids, d.aggregateID)
		}
	}
	states, err := tx.States(ctx, ids)
	if err != nil {
		return plan{}, fmt.Errorf("read aggregate states: %w", err)
	}
	p := plan{changed: make(map[string]projection.State), next: projection.Offsets{}}
	for _, d := range batch {
		if d.err == nil {
			if st := states[d.aggregateID]; !st.Parked && d.event.Seq > st.Seq+1 {
				missing, err := r.fill(ctx, d, st.Seq)
				if err != nil {
					return plan{}, err
				}
				for _, m := range missing {
					r.step(&p, states, m)
				}
				p.gapFilled += len(missing)
			}
		}
		r.step(&p, states, d)
		if d.rec.Topic != "" {
			p.next.Set(d.rec.Topic, d.rec.Partition, d.rec.Offset+1)
		}
	}
	return p, nil
}

// step sorts one decoded event whose predecessors are all sorted.
func (r *Runner) step(p *plan, states map[string]projection.State, d decoded) {
	id := d.aggregateID
	if id == "" {
		p.dlq = append(p.dlq, r.dlqRecord(d, ReasonPoison, d.err))
		return
	}
	st := states[id]
	if cause, ok := r.rejected[eventKey{id, d.event.Seq}]; ok && d.err == nil && !st.Parked && d.event.Seq > st.Seq {
		p.dlq = append(p.dlq, r.dlqRecord(d, ReasonRejected, cause))
		st.Parked = true
		states[id], p.changed[id] = st, st
		return
	}
	switch {
	case st.Parked:
		p.dlq = append(p.dlq, r.dlqRecord(d, ReasonParked, fmt.Errorf("aggregate %s is parked after seq %d", id, st.Seq)))
		return
	case d.err != nil:
		p.dlq = append(p.dlq, r.dlqRecord(d, ReasonPoison, d.err))
		st.Parked = true
	case d.event.Seq <= st.Seq:
		p.dups++
		return
	default:
		p.apply = append(p.apply, d.event)
		st.Seq = d.event.Seq
	}
	states[id] = st
	p.changed[id] = st
}

// fill fetches the events of d's aggregate between the applied seq and d's from the journal. It fails with a
// *gapError when there is no journal or it lacks some of them, and with the journal's error otherwise.
func (r *Runner) fill(ctx context.Context, d decoded, applied int64) ([]decoded, error) {
	gap := &gapError{rec: d.rec, aggregate: d.aggregateID, have: applied, got: d.event.Seq}
	if r.cfg.Journal == nil {
		gap.cause = errNoJournal
		return nil, gap
	}
	records, err := r.cfg.Journal.Load(ctx, d.aggregateID, applied)
	if err != nil {
		return nil, fmt.Errorf("load %s after seq %d from the journal: %w", d.aggregateID, applied, err)
	}
	var out []decoded
	for _, rec := range records {
		if rec.Seq >= d.event.Seq {
			break
		}
		env := fromJournal(rec)
		value, _ := json.Marshal(env)
		m := decoded{rec: &kgo.Record{Key: []byte(rec.AggregateID), Value: value, Offset: -1}, aggregateID: rec.AggregateID}
		m.event, m.err = r.cfg.Decode(env)
		out = append(out, m)
	}
	if int64(len(out)) != d.event.Seq-applied-1 || (len(out) > 0 && out[0].event.Seq != applied+1) {
		gap.cause = fmt.Errorf("the journal holds %d of the %d missing events", len(out), d.event.Seq-applied-1)
		return nil, gap
	}
	return out, nil
}

// dlqRecord is the dead-letter copy of d: the original key, value and headers, plus where it came from and why.
func (r *Runner) dlqRecord(d decoded, reason string, cause error) *kgo.Record {
	headers := append([]kgo.RecordHeader(nil), d.rec.Headers...)
	headers = append(headers,
		kgo.RecordHeader{Key: HeaderDLQError, Value: []byte(cause.Error())},
		kgo.RecordHeader{Key: HeaderDLQReason, Value: []byte(reason)},
		kgo.RecordHeader{Key: HeaderDLQTopic, Value: []byte(d.rec.Topic)},
		kgo.RecordHeader{Key: HeaderDLQPartition, Value: []byte(strconv.Itoa(int(d.rec.Partition)))},
		kgo.RecordHeader{Key: HeaderDLQOffset, Value: []byte(strconv.FormatInt(d.rec.Offset, 10))},
		kgo.RecordHeader{Key: HeaderDLQProjector, Value: []byte(r.cfg.Name)},
	)
	return &kgo.Record{Topic: r.cfg.DLQTopic, Key: d.rec.Key, Value: d.rec.Value, Headers: headers}
}
