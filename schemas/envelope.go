package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/bytedance/sonic"
)

// Envelope is one published event: the metadata every consumer needs around a payload whose shape is given by
// Type and Version. Its JSON form is the envelope contract (json/envelope.schema.json).
type Envelope struct {
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	Version       int             `json:"version"`
	AggregateType string          `json:"aggregate_type"`
	AggregateID   string          `json:"aggregate_id"`
	Seq           int64           `json:"seq"`
	OccurredAt    time.Time       `json:"occurred_at"`
	CorrelationID string          `json:"correlation_id"`
	CausationID   string          `json:"causation_id"`
	CommandID     string          `json:"command_id"`
	TraceParent   string          `json:"traceparent"`
	Payload       json.RawMessage `json:"payload"`
}

// UnmarshalEnvelope decodes one envelope from its JSON, as json.Unmarshal would, with sonic in its standard
// library configuration (strings copied, so that a decoded event does not keep the record's buffer alive):
// consumers decode every event of a replay, and it takes a third of encoding/json's time.
func UnmarshalEnvelope(data []byte) (Envelope, error) {
	var env Envelope
	err := sonic.ConfigStd.Unmarshal(data, &env)
	return env, err
}

// errPayloadNotJSON is AppendJSON's answer to a payload that is not one valid JSON value.
var errPayloadNotJSON = errors.New("payload is not valid JSON")

// MarshalJSON encodes the envelope with occurred_at in UTC, as the contract requires, whatever the location of
// OccurredAt; it fails only when the payload is not valid JSON or the year is outside 0–9999.
func (e Envelope) MarshalJSON() ([]byte, error) { return e.AppendJSON(nil) }

// AppendJSON appends the envelope's JSON to dst: the bytes MarshalJSON returns, written field by field without
// reflection, because the relay encodes every event of a replay. The payload is copied as it is, once checked
// to be valid JSON; it fails when it is not, or when the year is outside 0–9999.
func (e Envelope) AppendJSON(dst []byte) ([]byte, error) { return e.AppendJSONSpans(dst, nil) }

// Span is where AppendJSONSpans wrote one field's value: dst[Start:End], a string's contents without its
// quotes. Verbatim reports whether those bytes are the field's value itself (no character needed escaping), so
// that a caller may use them instead of a copy.
type Span struct {
	Start, End int
	Verbatim   bool
}

// EnvelopeSpans are the spans of the fields a Kafka record repeats in its key and headers.
type EnvelopeSpans struct {
	ID, Type, AggregateID, Seq, OccurredAt, TraceParent Span
}

// AppendJSONSpans is AppendJSON that also notes in spans (when not nil) where the fields of EnvelopeSpans
// went, so that the relay's headers share the value's bytes instead of copying them again.
func (e Envelope) AppendJSONSpans(dst []byte, spans *EnvelopeSpans) ([]byte, error) {
	at := e.OccurredAt.UTC()
	if y := at.Year(); y < 0 || y > 9999 {
		return dst, fmt.Errorf("encode envelope of %s seq %d: occurred_at year %d is outside 0-9999", e.AggregateID, e.Seq, y)
	}
	var sp EnvelopeSpans
	dst = append(dst, `{"id":`...)
	dst, sp.ID = appendStringSpan(dst, e.ID)
	dst = append(dst, `,"type":`...)
	dst, sp.Type = appendStringSpan(dst, e.Type)
	dst = append(dst, `,"version":`...)
	dst = strconv.AppendInt(dst, int64(e.Version), 10)
	dst = append(dst, `,"aggregate_type":`...)
	dst = AppendJSONString(dst, e.AggregateType)
	dst = append(dst, `,"aggregate_id":`...)
	dst, sp.AggregateID = appendStringSpan(dst, e.AggregateID)
	dst = append(dst, `,"seq":`...)
	sp.Seq.Start = len(dst)
	dst = strconv.AppendInt(dst, e.Seq, 10)
	sp.Seq.End, sp.Seq.Verbatim = len(dst), true
	dst = append(dst, `,"occurred_at":"`...)
	sp.OccurredAt.Start = len(dst)
	dst = at.AppendFormat(dst, time.RFC3339Nano)
	sp.OccurredAt.End, sp.OccurredAt.Verbatim = len(dst), true
	dst = append(dst, `","correlation_id":`...)
	dst = AppendJSONString(dst, e.CorrelationID)
	dst = append(dst, `,"causation_id":`...)
	dst = AppendJSONString(dst, e.CausationID)
	dst = append(dst, `,"command_id":`...)
	dst = AppendJSONString(dst, e.CommandID)
	dst = append(dst, `,"traceparent":`...)
	dst, sp.TraceParent = appendStringSpan(dst, e.TraceParent)
	dst = append(dst, `,"payload":`...)
	dst, err := appendPayload(dst, e.Payload)
	if err != nil {
		return dst, fmt.Errorf("encode envelope of %s seq %d: %w", e.AggregateID, e.Seq, err)
	}
	if spans != nil {
		*spans = sp
	}
	return append(dst, '}'), nil
}

// appendStringSpan appends s as a JSON string and returns where its contents went. Escaping always lengthens,
// so contents as long as s are s itself.
func appendStringSpan(dst []byte, s string) ([]byte, Span) {
	start := len(dst) + 1
	dst = AppendJSONString(dst, s)
	end := len(dst) - 1
	return dst, Span{Start: start, End: end, Verbatim: end-start == len(s)}
}

const hex = "0123456789abcdef"

// plainASCII marks the bytes AppendJSONString copies as they are: one table look-up per byte of the ids and
// names the relay encodes for every event, instead of six comparisons.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// AppendJSONString appends s as a JSON string escaped the way encoding/json escapes it: quotes, backslashes and
// control characters, <, > and & (HTML-safe), U+2028 and U+2029, and invalid UTF-8 as U+FFFD. Consumers that
// write JSON by hand for speed (the search projection, the event generator) use it too.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainASCII[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
