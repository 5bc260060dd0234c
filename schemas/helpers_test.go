package schemas_test

import (
	"encoding/json"
	"testing"

	"github.com/cqrses-aws/pipeline/schemas"
)

// typeVersion is one (event type, version) of the catalogue.
type typeVersion struct {
	eventType string
	version   int
}

// allVersions returns every version 1 … current of every event type.
func allVersions(tb testing.TB) []typeVersion {
	tb.Helper()
	var out []typeVersion
	for _, eventType := range schemas.Types() {
		current, ok := schemas.Current(eventType)
		if !ok {
			tb.Fatalf("Current(%q) not ok for a type listed by Types()", eventType)
		}
		for v := 1; v <= current; v++ {
			out = append(out, typeVersion{eventType, v})
		}
	}
	return out
}

func mustGolden(tb testing.TB, eventType string, version int) []byte {
	tb.Helper()
	raw, err := schemas.Golden(eventType, version)
	if err != nil {
		tb.Fatalf("Golden(%s, %d): %v", eventType, version, err)
	}
	return raw
}

func mustEnvelope(tb testing.TB, eventType string, version int) schemas.Envelope {
	tb.Helper()
	var env schemas.Envelope
	if err := json.Unmarshal(mustGolden(tb, eventType, version), &env); err != nil {
		tb.Fatalf("decode golden %s v%d: %v", eventType, version, err)
	}
	return env
}

// tree decodes raw into the generic form, for semantic comparison of JSON documents.
func tree(tb testing.TB, raw []byte) any {
	tb.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("encode %v: %v", v, err)
	}
	return raw
}

// editedGolden returns the golden envelope of eventType v after edit changed its generic form.
func editedGolden(tb testing.TB, eventType string, version int, edit func(env map[string]any)) []byte {
	tb.Helper()
	env, ok := tree(tb, mustGolden(tb, eventType, version)).(map[string]any)
	if !ok {
		tb.Fatalf("golden %s v%d is not an object", eventType, version)
	}
	edit(env)
	return mustJSON(tb, env)
}

// payloadOf returns the payload object of a generic envelope.
func payloadOf(tb testing.TB, env map[string]any) map[string]any {
	tb.Helper()
	p, ok := env["payload"].(map[string]any)
	if !ok {
		tb.Fatalf("payload is %T, not an object", env["payload"])
	}
	return p
}
