package config

import (
	"encoding/json"
	"log/slog"
)

// redacted is what a non-empty Secret prints as everywhere.
const redacted = "***"

// Secret is a string that never prints, marshals or logs its value; call Reveal to use it.
type Secret string

// Reveal returns the secret value; pass it only to the client that needs it, never to a log.
func (s Secret) Reveal() string { return string(s) }

// String returns "***" for a non-empty secret and "" for an empty one.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString returns the same redacted text as String so %#v does not leak the value.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON encodes the redacted text as a JSON string; it never fails.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText returns the redacted text; it never fails.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue makes slog print the redacted text.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
