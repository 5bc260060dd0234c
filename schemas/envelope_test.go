package schemas_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/schemas"
)

// plain is Envelope without its methods: what encoding/json makes of the fields.
type plain schemas.Envelope

// FuzzEnvelopeJSONMatchesEncodingJSON checks the hand-written encoder against encoding/json, value for value,
// for any strings (quotes, control characters, HTML, U+2028, invalid UTF-8) and any payload: it refuses exactly
// the payloads encoding/json refuses.
func FuzzEnvelopeJSONMatchesEncodingJSON(f *testing.F) {
	f.Add("01J", "MessagePosted", "room-1", "c\"o\\r\nr<&>", "\u2028\u2029\x00\x1f", "\xff\xfe", int64(7), int64(1e9),
		[]byte(`{"text":"明日の会議は10時からです"}`))
	f.Add("", "", "", "", "", "", int64(0), int64(0), []byte(` { "a" : [1, 2,  "x y"] , "b":"\"q\" " } `))
	f.Add("id", "t", "a", "tab\there", "\b\f", "ok", int64(-1), int64(-62135596800), []byte(`"just a string"`))
	f.Add("", "", "", "", "", "", int64(0), int64(0), []byte(`{"a":`))
	f.Add("", "", "", "", "", "", int64(0), int64(0), []byte("{\"a\":\"\xff\"}"))
	f.Fuzz(func(t *testing.T, id, typ, agg, corr, cause, tp string, seq, unix int64, payload []byte) {
		at := time.Unix(unix%253402300799, 123456789).In(time.FixedZone("x", 3600))
		env := schemas.Envelope{
			ID: id, Type: typ, Version: 2, AggregateType: agg, AggregateID: agg, Seq: seq, OccurredAt: at,
			CorrelationID: corr, CausationID: cause, CommandID: id, TraceParent: tp, Payload: payload,
		}
		got, err := env.AppendJSON(nil)
		p := plain(env)
		p.OccurredAt = p.OccurredAt.UTC()
		want, wantErr := json.Marshal(p)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("AppendJSON error %v, encoding/json error %v", err, wantErr)
		}
		if err != nil {
			return
		}
		// Equal as JSON values: encoding/json also escapes <, > and & inside the payload, which changes no value.
		var gotValue, wantValue any
		if err := json.Unmarshal(got, &gotValue); err != nil {
			t.Fatalf("AppendJSON wrote invalid JSON %s: %v", got, err)
		}
		if err := json.Unmarshal(want, &wantValue); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gotValue, wantValue) {
			t.Fatalf("AppendJSON =\n%s\nencoding/json =\n%s", got, want)
		}
		if !bytes.Contains(got, []byte(`"payload":`)) || bytes.Count(got, []byte("\n")) != 0 {
			t.Fatalf("AppendJSON = %s: not compact", got)
		}
	})
}

func TestEnvelopeJSONRefusesInvalidPayload(t *testing.T) {
	t.Parallel()
	env := schemas.Envelope{AggregateID: "room-1", Seq: 3, OccurredAt: time.Now(), Payload: []byte(`{"a":`)}
	if _, err := env.AppendJSON(nil); err == nil {
		t.Fatal("AppendJSON accepted a payload that is not JSON")
	}
	if _, err := json.Marshal(env); err == nil {
		t.Fatal("json.Marshal accepted a payload that is not JSON")
	}
}

// FuzzEnvelopePayloadMatchesCompact checks the payload's one-pass check and compaction against encoding/json:
// refused exactly when json.Valid refuses it, and otherwise written as json.Compact writes it, byte for byte.
func FuzzEnvelopePayloadMatchesCompact(f *testing.F) {
	for _, seed := range []string{
		`{"a":1}`, ` { "a" : [1, 2,  "x y"] , "b":"\"q\" " } `, `"s"`, `-0.5e+10`, `01`, `1.`, `[1,]`, `{"a" 1}`,
		`tru`, `nullx`, `"\u00e9\/\b"`, `"\u00g0"`, "\"a\x01\"", "\"\xff\"", `[[[]]]`, `{"a":{"b":[true,false,null]}}`,
		"\t[\n1\r]\n", `"unterminated`, `{"a":"b\\"}`, `1e`, `-`, `[-]`, `{}`, `[]`, ``, ` `,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		env := schemas.Envelope{AggregateID: "room-1", OccurredAt: time.Unix(0, 0), Payload: payload}
		got, err := env.AppendJSON(nil)
		if valid := json.Valid(payload); valid != (err == nil) {
			t.Fatalf("payload %q: json.Valid %v, AppendJSON error %v", payload, valid, err)
		}
		if err != nil {
			return
		}
		var want bytes.Buffer
		if err := json.Compact(&want, payload); err != nil {
			t.Fatal(err)
		}
		if suffix := `"payload":` + want.String() + `}`; !bytes.HasSuffix(got, []byte(suffix)) {
			t.Fatalf("payload %q: AppendJSON =\n%s\nwant it to end with\n%s", payload, got, suffix)
		}
	})
}

// TestEnvelopePayloadDepth refuses what encoding/json refuses: arrays and objects nested deeper than 10,000.
func TestEnvelopePayloadDepth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		depth int
		ok    bool
	}{{10000, true}, {10001, false}} {
		for _, open := range []string{"[", `{"a":`} {
			closer := map[string]string{"[": "]", `{"a":`: "}"}[open]
			payload := strings.Repeat(open, tc.depth) + "1" + strings.Repeat(closer, tc.depth)
			env := schemas.Envelope{OccurredAt: time.Unix(0, 0), Payload: []byte(payload)}
			if _, err := env.AppendJSON(nil); (err == nil) != tc.ok || json.Valid([]byte(payload)) != tc.ok {
				t.Errorf("depth %d of %q: AppendJSON error %v, json.Valid %v; want valid %v", tc.depth, open, err,
					json.Valid([]byte(payload)), tc.ok)
			}
		}
	}
}
