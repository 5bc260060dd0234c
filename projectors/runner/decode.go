package runner

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/schemas"
)

// errMalformed marks a record that is not an event envelope the projectors can read.
var errMalformed = errors.New("malformed event record")

// decoded is one record read from Kafka: the event when it decodes, else the reason it is poison.
type decoded struct {
	rec   *kgo.Record
	event projection.Event
	// aggregateID is the event's aggregate, or the record key when the value does not decode; "" when neither
	// names one.
	aggregateID string
	err         error
}

// parallelDecodeMin is the least number of records decodeAll splits between goroutines: below it a goroutine
// costs more than it saves.
const parallelDecodeMin = 1024

// decodeAll decodes recs, in their order. A large batch (a replay's) is split between one goroutine per
// processor: while a batch is decoded the target's server has nothing to do, so the batch waits on this process
// alone, and decoding is most of its CPU.
func (r *Runner) decodeAll(recs []*kgo.Record) []decoded {
	out := make([]decoded, len(recs))
	workers := min(runtime.GOMAXPROCS(0), len(recs)/parallelDecodeMin)
	if workers < 2 {
		for i, rec := range recs {
			out[i] = r.decodeRecord(rec)
		}
		return out
	}
	var wg sync.WaitGroup
	chunk := (len(recs) + workers - 1) / workers
	for start := 0; start < len(recs); start += chunk {
		part, dst := recs[start:min(start+chunk, len(recs))], out[start:]
		wg.Go(func() {
			for i, rec := range part {
				dst[i] = r.decodeRecord(rec)
			}
		})
	}
	wg.Wait()
	return out
}

// decodeRecord reads rec's envelope, upcasts it to the current version and decodes its payload. A record that
// fails is returned with err set (poison): undecodable JSON, missing fields, a key that is not the aggregate id,
// an unknown type or version, or a payload that does not fit its type.
func (r *Runner) decodeRecord(rec *kgo.Record) decoded {
	d := decoded{rec: rec, aggregateID: string(rec.Key)}
	env, err := schemas.UnmarshalEnvelope(rec.Value)
	if err != nil {
		d.err = fmt.Errorf("%w: %w", errMalformed, err)
		return d
	}
	if env.AggregateID != "" {
		d.aggregateID = env.AggregateID
	}
	switch {
	case env.AggregateID == "" || env.Type == "" || env.Seq < 1:
		d.err = fmt.Errorf("%w: aggregate_id, type and a seq of at least 1 are required", errMalformed)
		return d
	case len(rec.Key) > 0 && string(rec.Key) != env.AggregateID:
		d.err = fmt.Errorf("%w: key %q is not the aggregate id %q", errMalformed, rec.Key, env.AggregateID)
		return d
	}
	d.event, d.err = r.cfg.Decode(env)
	d.event.Topic, d.event.Partition, d.event.Offset = rec.Topic, rec.Partition, rec.Offset
	return d
}

// DecodeEnvelope upcasts env to its type's current version and decodes its payload: the default Config.Decode.
// It fails with the schemas package's errors (ErrUnknownType, ErrUnknownVersion, ErrInvalid).
func DecodeEnvelope(env schemas.Envelope) (projection.Event, error) {
	up, err := schemas.Upcast(env)
	if err != nil {
		return projection.Event{Envelope: env}, err
	}
	payload, err := schemas.Decode(up)
	if err != nil {
		return projection.Event{Envelope: env}, err
	}
	return projection.Event{Envelope: up, Payload: payload, Offset: -1}, nil
}

// fromJournal turns a journal record into the envelope the relay would have published.
func fromJournal(r eventstore.Record) schemas.Envelope {
	return schemas.Envelope{
		ID: r.EventID, Type: r.Type, Version: r.Version, AggregateType: r.AggregateType, AggregateID: r.AggregateID,
		Seq: r.Seq, OccurredAt: r.OccurredAt, CorrelationID: r.CorrelationID, CausationID: r.CausationID,
		CommandID: r.CommandID, TraceParent: r.TraceParent, Payload: r.Payload,
	}
}
