package eventgen

import (
	"encoding/binary"
	"encoding/hex"

	"github.com/oklog/ulid/v2"

	"github.com/cqrses-aws/pipeline/schemas"
)

// traceShare is the share of events, in thousandths, that carry a W3C trace context; the others have none, as
// a command sent without one.
const traceShare = 950

// envelope wraps the payload in g.buf (copied) with the metadata the writer sets: a new event id and command
// id (ULIDs of the event's time), the command id as causation, a request id as correlation, and usually a
// trace context.
func (g *Generator) envelope(eventType string, version int, aggregateType, aggregateID string, seq int64) schemas.Envelope {
	command := g.ulid()
	// One buffer for the trace context "00-<trace id>-<span id>-01" and the request id "req-<span id>".
	var random [24]byte
	binary.BigEndian.PutUint64(random[0:], g.rng.Uint64())
	binary.BigEndian.PutUint64(random[8:], g.rng.Uint64())
	binary.BigEndian.PutUint64(random[16:], g.rng.Uint64())
	var text [55]byte
	copy(text[:], "00-")
	hex.Encode(text[3:35], random[:16])
	text[35] = '-'
	hex.Encode(text[36:52], random[16:])
	copy(text[52:], "-01")
	var traceParent string
	if g.rng.IntN(1000) < traceShare {
		traceParent = string(text[:])
	}
	return schemas.Envelope{
		ID:            g.ulid(),
		Type:          eventType,
		Version:       version,
		AggregateType: aggregateType,
		AggregateID:   aggregateID,
		Seq:           seq,
		OccurredAt:    g.now,
		CorrelationID: "req-" + string(text[36:52]),
		CausationID:   command,
		CommandID:     command,
		TraceParent:   traceParent,
		Payload:       append([]byte(nil), g.buf...),
	}
}

// ulid returns a ULID of the current event's time with random bits from the generator's source.
func (g *Generator) ulid() string {
	var u ulid.ULID
	_ = u.SetTime(uint64(g.now.UnixMilli())) // fails only after the year 10889
	binary.BigEndian.PutUint64(u[6:], g.rng.Uint64())
	binary.BigEndian.PutUint16(u[14:], uint16(g.rng.Uint32()))
	return u.String()
}

// appendObject appends a JSON object of string fields given as key, value, key, value, ….
func appendObject(dst []byte, kv ...string) []byte {
	dst = append(dst, '{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = schemas.AppendJSONString(dst, kv[i])
		dst = append(dst, ':')
		dst = schemas.AppendJSONString(dst, kv[i+1])
	}
	return append(dst, '}')
}
