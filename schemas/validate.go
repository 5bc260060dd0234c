package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Validate checks env against the envelope schema, then its payload against the schema of its type and version
// (an older version is checked against its own schema, not upcast). It returns an error wrapping ErrInvalid,
// ErrUnknownType or ErrUnknownVersion. OccurredAt is checked as MarshalJSON writes it (in UTC) and must be set.
func Validate(env Envelope) error {
	if env.OccurredAt.IsZero() {
		return fmt.Errorf("envelope: %w: occurred_at is not set", ErrInvalid)
	}
	var payload any // a missing payload stays nil and fails the envelope schema
	if len(env.Payload) > 0 {
		p, err := decodeJSON(env.Payload)
		if err != nil {
			return fmt.Errorf("envelope: %w: payload: %w", ErrInvalid, err)
		}
		payload = p
	}
	return validateDoc(map[string]any{
		"id":             env.ID,
		"type":           env.Type,
		"version":        env.Version,
		"aggregate_type": env.AggregateType,
		"aggregate_id":   env.AggregateID,
		"seq":            env.Seq,
		"occurred_at":    env.OccurredAt.UTC().Format(time.RFC3339Nano),
		"correlation_id": env.CorrelationID,
		"causation_id":   env.CausationID,
		"command_id":     env.CommandID,
		"traceparent":    env.TraceParent,
		"payload":        payload,
	})
}

// ValidateJSON checks one envelope as JSON (a Kafka record value) like Validate does; it also rejects bytes that
// are not UTF-8 or not exactly one JSON value. It returns an error wrapping ErrInvalid, ErrUnknownType or
// ErrUnknownVersion.
func ValidateJSON(raw []byte) error {
	doc, err := decodeJSON(raw)
	if err != nil {
		return fmt.Errorf("envelope: %w: %w", ErrInvalid, err)
	}
	return validateDoc(doc)
}

// decodeJSON parses raw into the generic form the validator expects (numbers as json.Number).
func decodeJSON(raw []byte) (any, error) {
	if !utf8.Valid(raw) {
		return nil, errors.New("not valid UTF-8")
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	return doc, nil
}

func validateDoc(doc any) error {
	set, err := compiledSchemas()
	if err != nil {
		return err
	}
	if err := set.envelope.Validate(doc); err != nil {
		return invalid("envelope", err)
	}
	// The envelope schema guarantees an object with a string type and an integer version.
	obj, _ := doc.(map[string]any)
	eventType, _ := obj["type"].(string)
	version, ok := smallInt(obj["version"])
	if !ok {
		return fmt.Errorf("envelope: %w: version %v is not a small integer", ErrInvalid, obj["version"])
	}
	spec, err := lookup(eventType, version)
	if err != nil {
		return err
	}
	if aggregateType := obj["aggregate_type"]; aggregateType != spec.aggregateType {
		return fmt.Errorf("envelope: %w: %s is a %s event, aggregate_type is %v", ErrInvalid, eventType, spec.aggregateType, aggregateType)
	}
	key := schemaKey{eventType, version}
	if err := set.payloads[key].Validate(obj["payload"]); err != nil {
		return invalid(fmt.Sprintf("%s v%d payload", eventType, version), err)
	}
	return nil
}

func smallInt(v any) (int, bool) {
	const limit = 1 << 30 // versions are small; anything bigger is unknown, not worth an overflow
	var n int64
	switch v := v.(type) {
	case int:
		n = int64(v)
	case json.Number:
		i, err := v.Int64()
		if err != nil {
			return 0, false
		}
		n = i
	default:
		return 0, false
	}
	return int(min(n, limit)), true
}

// invalid wraps a schema violation in ErrInvalid with its detail on one line: "at '/text': minLength: …; …".
func invalid(what string, err error) error {
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return fmt.Errorf("%s: %w: %w", what, ErrInvalid, err)
	}
	// The first line only names the schema; the others are the violations, indented as a tree.
	lines := strings.Split(verr.Error(), "\n")
	if len(lines) > 1 {
		lines = lines[1:]
	}
	for i, line := range lines {
		lines[i] = strings.TrimPrefix(strings.TrimSpace(line), "- ")
	}
	return fmt.Errorf("%s: %w: %s", what, ErrInvalid, strings.Join(lines, "; "))
}

type schemaKey struct {
	eventType string
	version   int
}

type schemaSet struct {
	envelope *jsonschema.Schema
	payloads map[schemaKey]*jsonschema.Schema
}

// compiledSchemas compiles every embedded schema on first use; compiled schemas are read-only and safe for
// concurrent validation.
var compiledSchemas = sync.OnceValues(compileAll)

func compileAll() (*schemaSet, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat() // occurred_at must be a real date-time, not just look like one
	envelope, err := compileFile(c, envelopeSchemaPath)
	if err != nil {
		return nil, err
	}
	set := &schemaSet{envelope: envelope, payloads: make(map[schemaKey]*jsonschema.Schema)}
	for eventType, spec := range catalogue {
		for version := 1; version <= len(spec.payloads); version++ {
			sch, err := compileFile(c, schemaPath(eventType, version))
			if err != nil {
				return nil, err
			}
			set.payloads[schemaKey{eventType, version}] = sch
		}
	}
	return set, nil
}

// compileFile compiles one embedded schema under its own $id, so no schema is ever fetched from the network.
func compileFile(c *jsonschema.Compiler, path string) (*jsonschema.Schema, error) {
	raw, err := readFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parse schema %s: %w", path, err)
	}
	obj, _ := doc.(map[string]any)
	id, _ := obj["$id"].(string)
	if id == "" {
		return nil, fmt.Errorf("schema %s has no $id", path)
	}
	if err := c.AddResource(id, doc); err != nil {
		return nil, fmt.Errorf("add schema %s: %w", path, err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		return nil, fmt.Errorf("compile schema %s: %w", path, err)
	}
	return sch, nil
}
