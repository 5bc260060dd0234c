package schemas

import (
	"embed"
	"fmt"
	"maps"
	"slices"
)

// files holds the published schemas and golden examples; see the README for the naming.
//
//go:embed json/*.schema.json golden/*.json
var files embed.FS

const envelopeSchemaPath = "json/envelope.schema.json"

// eventSpec is the catalogue entry of one event type.
type eventSpec struct {
	aggregateType string
	// payloads[v-1] makes a new, empty Go payload of version v; the last one is the current version.
	payloads []func() any
}

// catalogue is every known event type. Versions of a type are 1 … current, with no hole: each has a schema
// file, a golden example and a Go type, and each older version has an upcaster to the next (upcast.go).
var catalogue = map[string]eventSpec{
	TypeAccountRegistered: {AggregateTypeAccount, []func() any{newOf[AccountRegisteredV1]}},
	TypeAccountRenamed:    {AggregateTypeAccount, []func() any{newOf[AccountRenamedV1]}},
	TypeRoomCreated:       {AggregateTypeRoom, []func() any{newOf[RoomCreatedV1]}},
	TypeRoomRenamed:       {AggregateTypeRoom, []func() any{newOf[RoomRenamedV1]}},
	TypeMemberAdded:       {AggregateTypeRoom, []func() any{newOf[MemberAddedV1], newOf[MemberAddedV2]}},
	TypeMemberRemoved:     {AggregateTypeRoom, []func() any{newOf[MemberRemovedV1]}},
	TypeMessagePosted:     {AggregateTypeRoom, []func() any{newOf[MessagePostedV1]}},
	TypeMessageEdited:     {AggregateTypeRoom, []func() any{newOf[MessageEditedV1]}},
	TypeMessageDeleted:    {AggregateTypeRoom, []func() any{newOf[MessageDeletedV1]}},
	TypeRoomDeleted:       {AggregateTypeRoom, []func() any{newOf[RoomDeletedV1]}},
}

func newOf[T any]() any { return new(T) }

// Types returns every known event type, sorted; the caller may modify the slice.
func Types() []string { return slices.Sorted(maps.Keys(catalogue)) }

// Current returns the current version of eventType, the one Upcast produces; ok is false for an unknown type.
func Current(eventType string) (version int, ok bool) {
	spec, ok := catalogue[eventType]
	return len(spec.payloads), ok
}

// AggregateTypeOf returns the aggregate type that emits eventType (AggregateTypeRoom or AggregateTypeAccount);
// ok is false for an unknown type.
func AggregateTypeOf(eventType string) (string, bool) {
	spec, ok := catalogue[eventType]
	return spec.aggregateType, ok
}

// NewPayload returns a pointer to a new, empty Go payload of eventType at version (e.g. *MemberAddedV1 for
// MemberAdded v1), ready for json.Unmarshal; it fails with ErrUnknownType or ErrUnknownVersion.
func NewPayload(eventType string, version int) (any, error) {
	spec, err := lookup(eventType, version)
	if err != nil {
		return nil, err
	}
	return spec.payloads[version-1](), nil
}

// Golden returns a copy of the golden example of eventType at version: one complete, valid envelope as JSON.
// It fails with ErrUnknownType or ErrUnknownVersion.
func Golden(eventType string, version int) ([]byte, error) {
	if _, err := lookup(eventType, version); err != nil {
		return nil, err
	}
	return readFile(goldenPath(eventType, version))
}

// Schema returns a copy of the JSON Schema of eventType's payload at version; it fails with ErrUnknownType or
// ErrUnknownVersion.
func Schema(eventType string, version int) ([]byte, error) {
	if _, err := lookup(eventType, version); err != nil {
		return nil, err
	}
	return readFile(schemaPath(eventType, version))
}

// EnvelopeSchema returns a copy of the envelope's JSON Schema; it is embedded, so it is never nil in a build
// that passes this package's tests.
func EnvelopeSchema() []byte {
	raw, err := readFile(envelopeSchemaPath)
	if err != nil {
		// The file is embedded at build time; only a broken build gets here, and the tests catch that.
		return nil
	}
	return raw
}

// lookup returns the spec of eventType if version is one of its versions.
func lookup(eventType string, version int) (eventSpec, error) {
	spec, ok := catalogue[eventType]
	if !ok {
		return eventSpec{}, fmt.Errorf("%w %q", ErrUnknownType, eventType)
	}
	if version < 1 || version > len(spec.payloads) {
		return eventSpec{}, fmt.Errorf("%w %d of %s (current is %d)", ErrUnknownVersion, version, eventType, len(spec.payloads))
	}
	return spec, nil
}

func schemaPath(eventType string, version int) string {
	return fmt.Sprintf("json/%s.v%d.schema.json", eventType, version)
}

func goldenPath(eventType string, version int) string {
	return fmt.Sprintf("golden/%s.v%d.json", eventType, version)
}

// readFile returns a copy of an embedded file, so callers cannot change what the next caller reads.
func readFile(path string) ([]byte, error) {
	raw, err := files.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read embedded %s: %w", path, err)
	}
	return raw, nil
}
