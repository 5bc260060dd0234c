package schemas_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/schemas"
)

func TestCatalogueMatchesTheReadme(t *testing.T) {
	t.Parallel()
	// The README's table of current versions.
	want := map[string]struct {
		aggregate string
		current   int
	}{
		schemas.TypeAccountRegistered: {schemas.AggregateTypeAccount, 1},
		schemas.TypeAccountRenamed:    {schemas.AggregateTypeAccount, 1},
		schemas.TypeRoomCreated:       {schemas.AggregateTypeRoom, 1},
		schemas.TypeRoomRenamed:       {schemas.AggregateTypeRoom, 1},
		schemas.TypeMemberAdded:       {schemas.AggregateTypeRoom, 2},
		schemas.TypeMemberRemoved:     {schemas.AggregateTypeRoom, 1},
		schemas.TypeMessagePosted:     {schemas.AggregateTypeRoom, 1},
		schemas.TypeMessageEdited:     {schemas.AggregateTypeRoom, 1},
		schemas.TypeMessageDeleted:    {schemas.AggregateTypeRoom, 1},
		schemas.TypeRoomDeleted:       {schemas.AggregateTypeRoom, 1},
	}
	types := schemas.Types()
	if len(types) != len(want) {
		t.Fatalf("Types() = %v, want the %d types of the README", types, len(want))
	}
	if !slices.IsSorted(types) {
		t.Errorf("Types() = %v, want sorted", types)
	}
	for _, eventType := range types {
		w, ok := want[eventType]
		if !ok {
			t.Errorf("Types() lists %q, which the README does not", eventType)
			continue
		}
		if got, ok := schemas.Current(eventType); !ok || got != w.current {
			t.Errorf("Current(%s) = %d, %v; want %d, true", eventType, got, ok, w.current)
		}
		if got, ok := schemas.AggregateTypeOf(eventType); !ok || got != w.aggregate {
			t.Errorf("AggregateTypeOf(%s) = %q, %v; want %q, true", eventType, got, ok, w.aggregate)
		}
		if _, err := schemas.Schema(eventType, w.current); err != nil {
			t.Errorf("Schema(%s, %d): %v", eventType, w.current, err)
		}
		if _, err := schemas.Golden(eventType, w.current); err != nil {
			t.Errorf("Golden(%s, %d): %v", eventType, w.current, err)
		}
	}
}

func TestTypesReturnsAFreshSlice(t *testing.T) {
	t.Parallel()
	first := schemas.Types()
	first[0] = "Clobbered"
	if second := schemas.Types(); slices.Contains(second, "Clobbered") {
		t.Fatalf("Types() shares its slice with callers: %v", second)
	}
}

func TestUnknownTypeLookups(t *testing.T) {
	t.Parallel()
	if v, ok := schemas.Current("MessageBurned"); ok || v != 0 {
		t.Errorf("Current(unknown) = %d, %v; want 0, false", v, ok)
	}
	if a, ok := schemas.AggregateTypeOf("MessageBurned"); ok || a != "" {
		t.Errorf("AggregateTypeOf(unknown) = %q, %v; want \"\", false", a, ok)
	}
}

func TestLookupErrors(t *testing.T) {
	t.Parallel()
	calls := map[string]func(string, int) (any, error){
		"NewPayload": schemas.NewPayload,
		"Golden":     func(e string, v int) (any, error) { return schemas.Golden(e, v) },
		"Schema":     func(e string, v int) (any, error) { return schemas.Schema(e, v) },
	}
	cases := []struct {
		eventType string
		version   int
		want      error
	}{
		{"MessageBurned", 1, schemas.ErrUnknownType},
		{"", 1, schemas.ErrUnknownType},
		{"messageposted", 1, schemas.ErrUnknownType},
		{schemas.TypeMessagePosted, 0, schemas.ErrUnknownVersion},
		{schemas.TypeMessagePosted, 2, schemas.ErrUnknownVersion},
		{schemas.TypeMemberAdded, 3, schemas.ErrUnknownVersion},
		{schemas.TypeMemberAdded, -1, schemas.ErrUnknownVersion},
	}
	for name, call := range calls {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/%s/v%d", name, tc.eventType, tc.version), func(t *testing.T) {
				t.Parallel()
				got, err := call(tc.eventType, tc.version)
				if !errors.Is(err, tc.want) {
					t.Fatalf("error = %v, want %v", err, tc.want)
				}
				if got != nil && !reflect.ValueOf(got).IsZero() {
					t.Errorf("result = %v, want none on error", got)
				}
			})
		}
	}
}

func TestSchemaFilesDescribeTheirTypeAndVersion(t *testing.T) {
	t.Parallel()
	ids := map[string]string{}
	envelope, ok := tree(t, schemas.EnvelopeSchema()).(map[string]any)
	if !ok {
		t.Fatal("envelope schema is not an object")
	}
	ids[fmt.Sprint(envelope["$id"])] = "envelope"
	for _, tv := range allVersions(t) {
		raw, err := schemas.Schema(tv.eventType, tv.version)
		if err != nil {
			t.Fatalf("Schema(%s, %d): %v", tv.eventType, tv.version, err)
		}
		doc, ok := tree(t, raw).(map[string]any)
		if !ok {
			t.Fatalf("schema %s v%d is not an object", tv.eventType, tv.version)
		}
		id, _ := doc["$id"].(string)
		if !strings.HasSuffix(id, fmt.Sprintf("/events/%s/v%d", tv.eventType, tv.version)) {
			t.Errorf("%s v%d: $id = %q, want it to end in /events/%s/v%d", tv.eventType, tv.version, id, tv.eventType, tv.version)
		}
		if other, dup := ids[id]; dup {
			t.Errorf("%s v%d: $id %q already used by %s", tv.eventType, tv.version, id, other)
		}
		ids[id] = tv.eventType
		if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s v%d: $schema = %v, want draft 2020-12", tv.eventType, tv.version, doc["$schema"])
		}
		if doc["additionalProperties"] != false {
			t.Errorf("%s v%d: additionalProperties = %v, want false", tv.eventType, tv.version, doc["additionalProperties"])
		}
		props, _ := doc["properties"].(map[string]any)
		required, _ := doc["required"].([]any)
		if len(required) == 0 || len(required) != len(props) {
			t.Errorf("%s v%d: required %v, properties %d: want every field required", tv.eventType, tv.version, required, len(props))
		}
	}
}

func TestGoldensDescribeTheirTypeAndVersion(t *testing.T) {
	t.Parallel()
	for _, tv := range allVersions(t) {
		env := mustEnvelope(t, tv.eventType, tv.version)
		if env.Type != tv.eventType || env.Version != tv.version {
			t.Errorf("golden %s v%d holds %s v%d", tv.eventType, tv.version, env.Type, env.Version)
		}
		if want, _ := schemas.AggregateTypeOf(tv.eventType); env.AggregateType != want {
			t.Errorf("golden %s v%d: aggregate_type %q, want %q", tv.eventType, tv.version, env.AggregateType, want)
		}
	}
}

func TestGoldenReturnsACopy(t *testing.T) {
	t.Parallel()
	first := mustGolden(t, schemas.TypeRoomCreated, 1)
	want := string(first)
	clear(first)
	if got := mustGolden(t, schemas.TypeRoomCreated, 1); string(got) != want {
		t.Fatal("Golden shares its bytes with callers")
	}
}

// TestGoldensRoundTripThroughGoTypes checks the Go types against the schemas: every field of every golden
// payload decodes into the Go type of its version and encodes back to the same JSON.
func TestGoldensRoundTripThroughGoTypes(t *testing.T) {
	t.Parallel()
	for _, tv := range allVersions(t) {
		t.Run(fmt.Sprintf("%s/v%d", tv.eventType, tv.version), func(t *testing.T) {
			t.Parallel()
			env := mustEnvelope(t, tv.eventType, tv.version)
			payload, err := schemas.NewPayload(tv.eventType, tv.version)
			if err != nil {
				t.Fatalf("NewPayload: %v", err)
			}
			if got, want := fmt.Sprintf("%T", payload), fmt.Sprintf("*schemas.%sV%d", tv.eventType, tv.version); got != want {
				t.Errorf("NewPayload made a %s, want %s", got, want)
			}
			dec := json.NewDecoder(strings.NewReader(string(env.Payload)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(payload); err != nil {
				t.Fatalf("decode payload into %T: %v", payload, err)
			}
			if got, want := tree(t, mustJSON(t, payload)), tree(t, env.Payload); !reflect.DeepEqual(got, want) {
				t.Errorf("re-encoded payload = %v, want %v", got, want)
			}
		})
	}
}

func TestNewPayloadReturnsAFreshValue(t *testing.T) {
	t.Parallel()
	first, err := schemas.NewPayload(schemas.TypeMessagePosted, 1)
	if err != nil {
		t.Fatal(err)
	}
	first.(*schemas.MessagePostedV1).Text = "used"
	second, err := schemas.NewPayload(schemas.TypeMessagePosted, 1)
	if err != nil {
		t.Fatal(err)
	}
	if *second.(*schemas.MessagePostedV1) != (schemas.MessagePostedV1{}) {
		t.Fatalf("NewPayload returned a used value: %+v", second)
	}
}

func TestEnvelopeJSONMatchesTheGoldens(t *testing.T) {
	t.Parallel()
	for _, tv := range allVersions(t) {
		golden := mustGolden(t, tv.eventType, tv.version)
		env := mustEnvelope(t, tv.eventType, tv.version)
		if got, want := tree(t, mustJSON(t, env)), tree(t, golden); !reflect.DeepEqual(got, want) {
			t.Errorf("%s v%d: re-encoded envelope = %v, want %v", tv.eventType, tv.version, got, want)
		}
	}
}

func TestEnvelopeEncodesOccurredAtInUTC(t *testing.T) {
	t.Parallel()
	env := mustEnvelope(t, schemas.TypeMessagePosted, 1)
	want := env.OccurredAt
	env.OccurredAt = want.In(time.FixedZone("JST", 9*60*60))
	var got struct {
		OccurredAt string `json:"occurred_at"`
	}
	if err := json.Unmarshal(mustJSON(t, env), &got); err != nil {
		t.Fatal(err)
	}
	if got.OccurredAt != "2025-11-20T09:20:00.987654321Z" {
		t.Fatalf("occurred_at = %q, want the UTC form with nanoseconds", got.OccurredAt)
	}
	if err := schemas.Validate(env); err != nil {
		t.Fatalf("Validate of a non-UTC OccurredAt (encoded as UTC): %v", err)
	}
}
