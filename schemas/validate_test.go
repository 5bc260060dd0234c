package schemas_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/schemas"
)

func TestGoldensValidate(t *testing.T) {
	t.Parallel()
	for _, tv := range allVersions(t) {
		if err := schemas.ValidateJSON(mustGolden(t, tv.eventType, tv.version)); err != nil {
			t.Errorf("ValidateJSON(golden %s v%d): %v", tv.eventType, tv.version, err)
		}
		if err := schemas.Validate(mustEnvelope(t, tv.eventType, tv.version)); err != nil {
			t.Errorf("Validate(golden %s v%d): %v", tv.eventType, tv.version, err)
		}
	}
}

func TestValidateJSONChecksPayloads(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		eventType string
		version   int
		edit      func(p map[string]any)
		want      error // nil: valid
		wantIn    string
	}{
		{"missing field", schemas.TypeMessagePosted, 1, func(p map[string]any) { delete(p, "text") }, schemas.ErrInvalid, "text"},
		{"extra field", schemas.TypeMessagePosted, 1, func(p map[string]any) { p["room_id"] = "room-1" }, schemas.ErrInvalid, "room_id"},
		{"empty text", schemas.TypeMessagePosted, 1, func(p map[string]any) { p["text"] = "" }, schemas.ErrInvalid, "/text"},
		{"text of 10,001 code points", schemas.TypeMessagePosted, 1, func(p map[string]any) { p["text"] = strings.Repeat("あ", 10_001) }, schemas.ErrInvalid, "maxLength"},
		{"text of 10,000 code points", schemas.TypeMessageEdited, 1, func(p map[string]any) { p["text"] = strings.Repeat("あ", 10_000) }, nil, ""},
		{"text with newline and tab", schemas.TypeMessagePosted, 1, func(p map[string]any) { p["text"] = "a\n\tb" }, nil, ""},
		{"text with a bell", schemas.TypeMessagePosted, 1, func(p map[string]any) { p["text"] = "ding\a" }, schemas.ErrInvalid, "/text"},
		{"text with a carriage return", schemas.TypeMessagePosted, 1, func(p map[string]any) { p["text"] = "a\r\nb" }, schemas.ErrInvalid, "/text"},
		{"text with a C1 control", schemas.TypeMessageEdited, 1, func(p map[string]any) { p["text"] = "a\u0085b" }, schemas.ErrInvalid, "/text"},
		{"text not a string", schemas.TypeMessagePosted, 1, func(p map[string]any) { p["text"] = 42 }, schemas.ErrInvalid, "/text"},
		{"message id without prefix", schemas.TypeMessagePosted, 1, func(p map[string]any) { p["message_id"] = "01KAG90GG03HA03CNWTXWDB5M1" }, schemas.ErrInvalid, "/message_id"},
		{"message id lower case", schemas.TypeMessageDeleted, 1, func(p map[string]any) { p["message_id"] = "msg-01kag90gg03ha03cnwtxwdb5m1" }, schemas.ErrInvalid, "/message_id"},
		{"message id with I", schemas.TypeMessageEdited, 1, func(p map[string]any) { p["message_id"] = "msg-01KAG90GG03HA03CNWTXWDB5MI" }, schemas.ErrInvalid, "/message_id"},
		{"empty author", schemas.TypeMessagePosted, 1, func(p map[string]any) { p["author_id"] = "" }, schemas.ErrInvalid, "/author_id"},
		{"name of 81 characters", schemas.TypeRoomCreated, 1, func(p map[string]any) { p["name"] = strings.Repeat("x", 81) }, schemas.ErrInvalid, "maxLength"},
		{"name of 80 code points", schemas.TypeRoomRenamed, 1, func(p map[string]any) { p["name"] = strings.Repeat("界", 80) }, nil, ""},
		{"empty name", schemas.TypeAccountRegistered, 1, func(p map[string]any) { p["name"] = "" }, schemas.ErrInvalid, "/name"},
		{"name with newline", schemas.TypeAccountRenamed, 1, func(p map[string]any) { p["name"] = "a\nb" }, schemas.ErrInvalid, "/name"},
		{"name with tab", schemas.TypeRoomCreated, 1, func(p map[string]any) { p["name"] = "a\tb" }, schemas.ErrInvalid, "/name"},
		{"wrong role", schemas.TypeMemberAdded, 2, func(p map[string]any) { p["role"] = "owner" }, schemas.ErrInvalid, "/role"},
		{"missing role", schemas.TypeMemberAdded, 2, func(p map[string]any) { delete(p, "role") }, schemas.ErrInvalid, "role"},
		{"admin role", schemas.TypeMemberAdded, 2, func(p map[string]any) { p["role"] = "admin" }, nil, ""},
		{"role in v1", schemas.TypeMemberAdded, 1, func(p map[string]any) { p["role"] = "member" }, schemas.ErrInvalid, "role"},
		{"empty remover", schemas.TypeMemberRemoved, 1, func(p map[string]any) { p["removed_by"] = "" }, schemas.ErrInvalid, "/removed_by"},
		{"extra field on room deletion", schemas.TypeRoomDeleted, 1, func(p map[string]any) { p["reason"] = "spam" }, schemas.ErrInvalid, "reason"},
		{"missing creator", schemas.TypeRoomCreated, 1, func(p map[string]any) { delete(p, "created_by") }, schemas.ErrInvalid, "created_by"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			raw := editedGolden(t, tc.eventType, tc.version, func(env map[string]any) { tc.edit(payloadOf(t, env)) })
			err := schemas.ValidateJSON(raw)
			assertErr(t, err, tc.want, tc.wantIn)
		})
	}
}

func TestValidateJSONChecksTheEnvelope(t *testing.T) {
	t.Parallel()
	set := func(field string, v any) func(map[string]any) { return func(e map[string]any) { e[field] = v } }
	drop := func(field string) func(map[string]any) { return func(e map[string]any) { delete(e, field) } }
	cases := []struct {
		name string
		edit func(env map[string]any)
		want error
		in   string // the error names the field
	}{
		{"occurred_at month 13", set("occurred_at", "2025-13-01T00:00:00Z"), schemas.ErrInvalid, "occurred_at"},
		{"occurred_at not a time", set("occurred_at", "yesterday"), schemas.ErrInvalid, "occurred_at"},
		{"occurred_at not UTC", set("occurred_at", "2025-11-20T18:20:00.987654321+09:00"), schemas.ErrInvalid, "occurred_at"},
		{"occurred_at without T", set("occurred_at", "2025-11-20 09:20:00Z"), schemas.ErrInvalid, "occurred_at"},
		{"occurred_at with 10 fraction digits", set("occurred_at", "2025-11-20T09:20:00.1234567890Z"), schemas.ErrInvalid, "occurred_at"},
		{"occurred_at a number", set("occurred_at", 1763630400), schemas.ErrInvalid, "occurred_at"},
		{"occurred_at whole seconds", set("occurred_at", "2025-11-20T09:20:00Z"), nil, "occurred_at"},
		{"occurred_at missing", drop("occurred_at"), schemas.ErrInvalid, "occurred_at"},
		{"seq 0", set("seq", 0), schemas.ErrInvalid, "seq"},
		{"seq negative", set("seq", -3), schemas.ErrInvalid, "seq"},
		{"seq fractional", set("seq", 1.5), schemas.ErrInvalid, "seq"},
		{"seq a string", set("seq", "4"), schemas.ErrInvalid, "seq"},
		{"seq missing", drop("seq"), schemas.ErrInvalid, "seq"},
		{"version 0", set("version", 0), schemas.ErrInvalid, "version"},
		{"version above current", set("version", 2), schemas.ErrUnknownVersion, "version"},
		{"unknown type", set("type", "MessageBurned"), schemas.ErrUnknownType, "type"},
		{"empty type", set("type", ""), schemas.ErrInvalid, "type"},
		{"id not a ULID", set("id", "not-a-ulid"), schemas.ErrInvalid, "/id"},
		{"command id empty", set("command_id", ""), schemas.ErrInvalid, "command_id"},
		{"correlation id empty", set("correlation_id", ""), schemas.ErrInvalid, "correlation_id"},
		{"causation id missing", drop("causation_id"), schemas.ErrInvalid, "causation_id"},
		{"traceparent garbage", set("traceparent", "trace me"), schemas.ErrInvalid, "traceparent"},
		{"traceparent empty", set("traceparent", ""), nil, "traceparent"},
		{"traceparent missing", drop("traceparent"), schemas.ErrInvalid, "traceparent"},
		{"unknown aggregate type", set("aggregate_type", "user"), schemas.ErrInvalid, "aggregate_type"},
		{"wrong aggregate type", set("aggregate_type", schemas.AggregateTypeAccount), schemas.ErrInvalid, "aggregate_type"},
		{"room id not room-ULID", set("aggregate_id", "room-1"), schemas.ErrInvalid, "aggregate_id"},
		{"extra field", set("tenant", "acme"), schemas.ErrInvalid, "tenant"},
		{"payload null", set("payload", nil), schemas.ErrInvalid, "payload"},
		{"payload a string", set("payload", `{"text":"hi"}`), schemas.ErrInvalid, "payload"},
		{"payload missing", drop("payload"), schemas.ErrInvalid, "payload"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := schemas.ValidateJSON(editedGolden(t, schemas.TypeMessagePosted, 1, tc.edit))
			assertErr(t, err, tc.want, tc.in)
		})
	}
}

func TestValidateJSONChecksVersionsPerType(t *testing.T) {
	t.Parallel()
	raw := editedGolden(t, schemas.TypeMemberAdded, 2, func(e map[string]any) { e["version"] = 3 })
	assertErr(t, schemas.ValidateJSON(raw), schemas.ErrUnknownVersion, "MemberAdded")
	// An account event on a room id is fine by the envelope schema, but not by the catalogue.
	raw = editedGolden(t, schemas.TypeAccountRenamed, 1, func(e map[string]any) { e["aggregate_type"] = schemas.AggregateTypeRoom })
	assertErr(t, schemas.ValidateJSON(raw), schemas.ErrInvalid, "aggregate_id")
}

func TestValidateJSONRejectsMalformedBytes(t *testing.T) {
	t.Parallel()
	golden := mustGolden(t, schemas.TypeMessagePosted, 1)
	cases := map[string][]byte{
		"empty":            nil,
		"not JSON":         []byte("MessagePosted"),
		"two values":       append(append([]byte{}, golden...), golden...),
		"truncated":        golden[:len(golden)/2],
		"an array":         []byte(`[` + string(golden) + `]`),
		"invalid UTF-8":    bytes.Replace(golden, []byte("明日"), []byte{0xff, 0xfe}, 1),
		"JSON null":        []byte("null"),
		"envelope a count": []byte("42"),
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			assertErr(t, schemas.ValidateJSON(raw), schemas.ErrInvalid, "")
		})
	}
}

func TestValidateChecksEnvelopeStructs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(env *schemas.Envelope)
		want error
	}{
		{"golden", func(*schemas.Envelope) {}, nil},
		{"zero occurred_at", func(e *schemas.Envelope) { e.OccurredAt = time.Time{} }, schemas.ErrInvalid},
		{"occurred_at after year 9999", func(e *schemas.Envelope) { e.OccurredAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, schemas.ErrInvalid},
		{"seq 0", func(e *schemas.Envelope) { e.Seq = 0 }, schemas.ErrInvalid},
		{"version 0", func(e *schemas.Envelope) { e.Version = 0 }, schemas.ErrInvalid},
		{"version 2", func(e *schemas.Envelope) { e.Version = 2 }, schemas.ErrUnknownVersion},
		{"unknown type", func(e *schemas.Envelope) { e.Type = "MessageBurned" }, schemas.ErrUnknownType},
		{"no payload", func(e *schemas.Envelope) { e.Payload = nil }, schemas.ErrInvalid},
		{"payload not JSON", func(e *schemas.Envelope) { e.Payload = []byte(`{"text":`) }, schemas.ErrInvalid},
		{"payload breaks its schema", func(e *schemas.Envelope) {
			e.Payload = []byte(`{"message_id":"msg-01KAG90GG03HA03CNWTXWDB5M1","author_id":"a","text":""}`)
		}, schemas.ErrInvalid},
		{"no command id", func(e *schemas.Envelope) { e.CommandID = "" }, schemas.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := mustEnvelope(t, schemas.TypeMessagePosted, 1)
			tc.edit(&env)
			assertErr(t, schemas.Validate(env), tc.want, "")
		})
	}
}

func TestInvalidErrorsSayWhereAndWhy(t *testing.T) {
	t.Parallel()
	raw := editedGolden(t, schemas.TypeMessagePosted, 1, func(e map[string]any) {
		payloadOf(t, e)["text"] = strings.Repeat("x", 10_001)
	})
	err := schemas.ValidateJSON(raw)
	if !errors.Is(err, schemas.ErrInvalid) {
		t.Fatalf("error = %v, want ErrInvalid", err)
	}
	msg := err.Error()
	for _, want := range []string{"MessagePosted v1 payload", "/text", "maxLength"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error %q spans lines; it goes into one dead-letter header", msg)
	}
}

func TestValidateIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	versions := allVersions(t)
	goldens := make([][]byte, len(versions))
	for i, tv := range versions {
		goldens[i] = mustGolden(t, tv.eventType, tv.version)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16*len(goldens))
	for range 16 {
		wg.Go(func() {
			for i, raw := range goldens {
				if err := schemas.ValidateJSON(raw); err != nil {
					errs <- fmt.Errorf("%v: %w", versions[i], err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// assertErr checks that err is nil when want is nil, or wraps want and mentions wantIn.
func assertErr(tb testing.TB, err, want error, wantIn string) {
	tb.Helper()
	if want == nil {
		if err != nil {
			tb.Fatalf("error = %v, want none", err)
		}
		return
	}
	if !errors.Is(err, want) {
		tb.Fatalf("error = %v, want %v", err, want)
	}
	if !strings.Contains(err.Error(), wantIn) {
		tb.Errorf("error %q does not mention %q", err, wantIn)
	}
}
