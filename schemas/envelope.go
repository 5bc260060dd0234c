package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"
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

// errPayloadNotJSON is AppendJSON's answer to a payload that is not one valid JSON value.
var errPayloadNotJSON = errors.New("payload is not valid JSON")

// MarshalJSON encodes the envelope with occurred_at in UTC, as the contract requires, whatever the location of
// OccurredAt; it fails only when the payload is not valid JSON or the year is outside 0–9999.
func (e Envelope) MarshalJSON() ([]byte, error) { return e.AppendJSON(nil) }

// AppendJSON appends the envelope's JSON to dst: the bytes MarshalJSON returns, written field by field without
// reflection, because the relay encodes every event of a replay. The payload is copied as it is, once checked
// to be valid JSON; it fails when it is not, or when the year is outside 0–9999.
func (e Envelope) AppendJSON(dst []byte) ([]byte, error) {
	at := e.OccurredAt.UTC()
	if y := at.Year(); y < 0 || y > 9999 {
		return dst, fmt.Errorf("encode envelope of %s seq %d: occurred_at year %d is outside 0-9999", e.AggregateID, e.Seq, y)
	}
	dst = append(dst, `{"id":`...)
	dst = AppendJSONString(dst, e.ID)
	dst = append(dst, `,"type":`...)
	dst = AppendJSONString(dst, e.Type)
	dst = append(dst, `,"version":`...)
	dst = strconv.AppendInt(dst, int64(e.Version), 10)
	dst = append(dst, `,"aggregate_type":`...)
	dst = AppendJSONString(dst, e.AggregateType)
	dst = append(dst, `,"aggregate_id":`...)
	dst = AppendJSONString(dst, e.AggregateID)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendInt(dst, e.Seq, 10)
	dst = append(dst, `,"occurred_at":"`...)
	dst = at.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","correlation_id":`...)
	dst = AppendJSONString(dst, e.CorrelationID)
	dst = append(dst, `,"causation_id":`...)
	dst = AppendJSONString(dst, e.CausationID)
	dst = append(dst, `,"command_id":`...)
	dst = AppendJSONString(dst, e.CommandID)
	dst = append(dst, `,"traceparent":`...)
	dst = AppendJSONString(dst, e.TraceParent)
	dst = append(dst, `,"payload":`...)
	if err := fastjson.ValidateBytes(e.Payload); err != nil {
		return dst, fmt.Errorf("encode envelope of %s seq %d: %w: %w", e.AggregateID, e.Seq, errPayloadNotJSON, err)
	}
	return append(appendCompact(dst, e.Payload), '}'), nil
}

// appendCompact appends valid JSON without insignificant white space, as encoding/json does with a
// RawMessage; compact JSON (what the writer stores) is copied in one go.
func appendCompact(dst, raw []byte) []byte {
	inString, escaped := false, false
	for _, c := range raw {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			var b bytes.Buffer
			_ = json.Compact(&b, raw) // raw is valid: Compact cannot fail
			return append(dst, b.Bytes()...)
		}
	}
	return append(dst, raw...)
}

const hex = "0123456789abcdef"

// AppendJSONString appends s as a JSON string escaped the way encoding/json escapes it: quotes, backslashes and
// control characters, <, > and & (HTML-safe), U+2028 and U+2029, and invalid UTF-8 as U+FFFD. Consumers that
// write JSON by hand for speed (the search projection, the event generator) use it too.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
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
