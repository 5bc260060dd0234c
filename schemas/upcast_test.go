package schemas_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"unsafe"

	"github.com/cqrses-aws/pipeline/schemas"
)

func TestUpcastMemberAddedV1ToV2(t *testing.T) {
	t.Parallel()
	in := mustEnvelope(t, schemas.TypeMemberAdded, 1)
	out, err := schemas.Upcast(in)
	if err != nil {
		t.Fatalf("Upcast: %v", err)
	}
	if out.Version != 2 {
		t.Fatalf("version = %d, want 2", out.Version)
	}
	if err := schemas.Validate(out); err != nil {
		t.Fatalf("Validate(upcast): %v", err)
	}
	var v1 schemas.MemberAddedV1
	var v2 schemas.MemberAddedV2
	if err := json.Unmarshal(in.Payload, &v1); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out.Payload, &v2); err != nil {
		t.Fatal(err)
	}
	want := schemas.MemberAddedV2{AccountID: v1.AccountID, Role: schemas.RoleMember, AddedBy: v1.AddedBy}
	if v2 != want {
		t.Errorf("payload = %+v, want %+v", v2, want)
	}
	// The goldens show one event before and after: v2's golden is v1's, upcast.
	if got, want := tree(t, mustJSON(t, out)), tree(t, mustGolden(t, schemas.TypeMemberAdded, 2)); !reflect.DeepEqual(got, want) {
		t.Errorf("upcast envelope = %v, want the v2 golden %v", got, want)
	}
}

func TestUpcastKeepsUnknownFieldsOfOldPayloads(t *testing.T) {
	t.Parallel()
	in := mustEnvelope(t, schemas.TypeMemberAdded, 1)
	in.Payload = json.RawMessage(`{"account_id":"a","added_by":"b","note":{"x":[1,2]}}`)
	out, err := schemas.Upcast(in)
	if err != nil {
		t.Fatal(err)
	}
	want := tree(t, []byte(`{"account_id":"a","added_by":"b","note":{"x":[1,2]},"role":"member"}`))
	if got := tree(t, out.Payload); !reflect.DeepEqual(got, want) {
		t.Fatalf("payload = %v, want %v", got, want)
	}
}

func TestUpcastLeavesTheInputUntouched(t *testing.T) {
	t.Parallel()
	in := mustEnvelope(t, schemas.TypeMemberAdded, 1)
	before := bytes.Clone(in.Payload)
	out, err := schemas.Upcast(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(in.Payload, before) || in.Version != 1 {
		t.Fatalf("input changed: v%d %s, was v1 %s", in.Version, in.Payload, before)
	}
	clear(out.Payload)
	if !bytes.Equal(in.Payload, before) {
		t.Fatalf("output payload shares the input's bytes: input now %q", in.Payload)
	}
}

func TestUpcastPassesCurrentVersionsThrough(t *testing.T) {
	t.Parallel()
	for _, eventType := range schemas.Types() {
		current, _ := schemas.Current(eventType)
		in := mustEnvelope(t, eventType, current)
		out, err := schemas.Upcast(in)
		if err != nil {
			t.Fatalf("Upcast(%s v%d): %v", eventType, current, err)
		}
		if !reflect.DeepEqual(out, in) {
			t.Errorf("Upcast(%s v%d) = %+v, want the input", eventType, current, out)
		}
		if unsafe.SliceData(out.Payload) != unsafe.SliceData(in.Payload) {
			t.Errorf("Upcast(%s v%d) copied the payload", eventType, current)
		}
	}
}

// TestUpcastOfCurrentDoesNotAllocate is not parallel: testing.AllocsPerRun refuses parallel tests.
func TestUpcastOfCurrentDoesNotAllocate(t *testing.T) {
	for _, eventType := range schemas.Types() {
		current, _ := schemas.Current(eventType)
		in := mustEnvelope(t, eventType, current)
		var err error
		allocs := testing.AllocsPerRun(100, func() { _, err = schemas.Upcast(in) })
		if err != nil {
			t.Fatalf("Upcast(%s v%d): %v", eventType, current, err)
		}
		if allocs != 0 {
			t.Errorf("Upcast(%s v%d) allocates %.1f times per call, want 0", eventType, current, allocs)
		}
	}
}

func TestUpcastBringsEveryVersionToCurrent(t *testing.T) {
	t.Parallel()
	for _, tv := range allVersions(t) {
		out, err := schemas.Upcast(mustEnvelope(t, tv.eventType, tv.version))
		if err != nil {
			t.Errorf("Upcast(%s v%d): %v", tv.eventType, tv.version, err)
			continue
		}
		if current, _ := schemas.Current(tv.eventType); out.Version != current {
			t.Errorf("Upcast(%s v%d) gave v%d, want v%d", tv.eventType, tv.version, out.Version, current)
		}
		if err := schemas.Validate(out); err != nil {
			t.Errorf("Validate(Upcast(%s v%d)): %v", tv.eventType, tv.version, err)
		}
	}
}

func TestUpcastErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		typ     string
		version int
		payload string
		want    error
	}{
		{"unknown type", "MessageBurned", 1, `{}`, schemas.ErrUnknownType},
		{"empty type", "", 1, `{}`, schemas.ErrUnknownType},
		{"version above current", schemas.TypeMemberAdded, 3, `{}`, schemas.ErrUnknownVersion},
		{"version 0", schemas.TypeMemberAdded, 0, `{}`, schemas.ErrUnknownVersion},
		{"negative version", schemas.TypeMessagePosted, -1, `{}`, schemas.ErrUnknownVersion},
		{"old payload not JSON", schemas.TypeMemberAdded, 1, `{"account_id":`, schemas.ErrInvalid},
		{"old payload an array", schemas.TypeMemberAdded, 1, `["a"]`, schemas.ErrInvalid},
		{"old payload null", schemas.TypeMemberAdded, 1, `null`, schemas.ErrInvalid},
		{"old payload missing", schemas.TypeMemberAdded, 1, ``, schemas.ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := mustEnvelope(t, schemas.TypeMemberAdded, 1)
			env.Type, env.Version, env.Payload = tc.typ, tc.version, json.RawMessage(tc.payload)
			out, err := schemas.Upcast(env)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if !reflect.DeepEqual(out, schemas.Envelope{}) {
				t.Errorf("result = %+v, want the zero envelope on error", out)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	got, err := schemas.Decode(mustEnvelope(t, schemas.TypeMemberAdded, 1))
	if err != nil {
		t.Fatalf("Decode(MemberAdded v1): %v", err)
	}
	member, ok := got.(*schemas.MemberAddedV2)
	if !ok || member.Role != schemas.RoleMember || member.AccountID == "" || member.AddedBy == "" {
		t.Errorf("Decode(MemberAdded v1) = %#v, want a *MemberAddedV2 with role member", got)
	}

	got, err = schemas.Decode(mustEnvelope(t, schemas.TypeMessagePosted, 1))
	if err != nil {
		t.Fatalf("Decode(MessagePosted v1): %v", err)
	}
	if msg, ok := got.(*schemas.MessagePostedV1); !ok || msg.Text == "" {
		t.Errorf("Decode(MessagePosted v1) = %#v, want a *MessagePostedV1 with text", got)
	}

	env := mustEnvelope(t, schemas.TypeMessagePosted, 1)
	env.Payload = json.RawMessage(`{"text":7}`)
	if _, err := schemas.Decode(env); !errors.Is(err, schemas.ErrInvalid) {
		t.Errorf("Decode(bad payload) error = %v, want ErrInvalid", err)
	}
	env.Type = "MessageBurned"
	if _, err := schemas.Decode(env); !errors.Is(err, schemas.ErrUnknownType) {
		t.Errorf("Decode(unknown type) error = %v, want ErrUnknownType", err)
	}
}

func BenchmarkUpcastCurrent(b *testing.B) {
	env := mustEnvelope(b, schemas.TypeMessagePosted, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := schemas.Upcast(env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpcastV1(b *testing.B) {
	env := mustEnvelope(b, schemas.TypeMemberAdded, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := schemas.Upcast(env); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateJSON(b *testing.B) {
	raw := mustGolden(b, schemas.TypeMessagePosted, 1)
	if err := schemas.ValidateJSON(raw); err != nil {
		b.Fatal(fmt.Errorf("golden: %w", err))
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := schemas.ValidateJSON(raw); err != nil {
			b.Fatal(err)
		}
	}
}
