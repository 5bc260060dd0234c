package schemas

import (
	"encoding/json"
	"fmt"

	"github.com/bytedance/sonic"
)

// upcaster turns a payload of one version into the next version's; it must not modify its input and fails with
// ErrInvalid when the input is not a payload it can read.
type upcaster func(payload json.RawMessage) (json.RawMessage, error)

type stepKey struct {
	eventType string
	from      int
}

// upcasters holds one step per older version of every type: {type, v} turns v into v+1. A test checks that each
// older version reaches the current one.
var upcasters = map[stepKey]upcaster{
	{TypeMemberAdded, 1}: memberAddedV1ToV2,
}

// Upcast returns env brought to its type's current version through the registered steps (v1 → v2 → …). An
// envelope already at the current version is returned as it is, without parsing or copying the payload. The
// input's payload bytes are never modified. It fails with ErrUnknownType, with ErrUnknownVersion for a version
// above the current one or without a path to it, and with ErrInvalid when a step cannot read the payload. The
// result is not validated: call Validate when the source is not trusted.
func Upcast(env Envelope) (Envelope, error) {
	spec, ok := catalogue[env.Type]
	if !ok {
		return Envelope{}, fmt.Errorf("upcast: %w %q", ErrUnknownType, env.Type)
	}
	current := len(spec.payloads)
	if env.Version == current {
		return env, nil
	}
	if env.Version < 1 || env.Version > current {
		return Envelope{}, fmt.Errorf("upcast: %w %d of %s (current is %d)", ErrUnknownVersion, env.Version, env.Type, current)
	}
	payload := env.Payload
	for from := env.Version; from < current; from++ {
		step, ok := upcasters[stepKey{env.Type, from}]
		if !ok {
			return Envelope{}, fmt.Errorf("upcast: %w: no step from %s v%d to v%d", ErrUnknownVersion, env.Type, from, from+1)
		}
		next, err := step(payload)
		if err != nil {
			return Envelope{}, fmt.Errorf("upcast %s v%d to v%d: %w", env.Type, from, from+1, err)
		}
		payload = next
	}
	env.Version, env.Payload = current, payload
	return env, nil
}

// Decode upcasts env and decodes its payload into a new value of the current version's Go type, returned as a
// pointer (e.g. *MemberAddedV2). It fails like Upcast, and with ErrInvalid when the payload does not decode; it
// does not check the schema's rules (see Validate).
func Decode(env Envelope) (any, error) {
	up, err := Upcast(env)
	if err != nil {
		return nil, err
	}
	payload, err := NewPayload(up.Type, up.Version)
	if err != nil {
		return nil, err
	}
	// sonic for the same reason as UnmarshalEnvelope.
	if err := sonic.ConfigStd.Unmarshal(up.Payload, payload); err != nil {
		return nil, fmt.Errorf("decode %s v%d payload: %w: %w", up.Type, up.Version, ErrInvalid, err)
	}
	return payload, nil
}

// memberAddedV1ToV2 adds "role": "member": in v1 every added account was a plain member. Other fields are kept.
func memberAddedV1ToV2(payload json.RawMessage) (json.RawMessage, error) {
	var fields map[string]json.RawMessage // Unmarshal copies the values: the input stays untouched
	if err := json.Unmarshal(payload, &fields); err != nil {
		return nil, fmt.Errorf("%w: payload is not a JSON object: %w", ErrInvalid, err)
	}
	if fields == nil {
		return nil, fmt.Errorf("%w: payload is null", ErrInvalid)
	}
	fields["role"] = json.RawMessage(`"` + RoleMember + `"`)
	out, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("encode upcast payload: %w", err)
	}
	return out, nil
}
