// Package cursor makes the query API's pagination cursors: opaque to clients, and tamper-evident, so that a
// cursor edited by hand or taken from another listing is refused instead of paging somewhere unexpected.
package cursor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is Decode's answer (wrapped) for a cursor this codec did not make for the same scope.
var ErrInvalid = errors.New("invalid cursor")

// MaxLen bounds the length of a cursor Decode accepts; the cursors Encode makes are far shorter.
const MaxLen = 1024

// MinKeyLen is the shortest signing key New accepts.
const MinKeyLen = 16

// macLen is how many bytes of the HMAC-SHA256 a cursor carries: 128 bits, beyond guessing.
const macLen = 16

// version starts every cursor so that the format can change without old cursors being misread.
const version = "1"

// Codec encodes positions into signed cursors and decodes them back; it is safe for concurrent use.
type Codec struct {
	key []byte
}

// New returns a codec signing with key; it fails when key is shorter than MinKeyLen bytes.
func New(key []byte) (*Codec, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("cursor key has %d bytes, want at least %d", len(key), MinKeyLen)
	}
	return &Codec{key: append([]byte(nil), key...)}, nil
}

// Encode returns the cursor of position (any value encoding/json can marshal) within scope: a string naming
// the listing, e.g. the endpoint, the caller and the room, so that the cursor is valid for that listing only.
func (c *Codec) Encode(scope string, position any) (string, error) {
	payload, err := json.Marshal(position)
	if err != nil {
		return "", fmt.Errorf("encode cursor position: %w", err)
	}
	body := base64.RawURLEncoding.EncodeToString(payload)
	return version + "." + body + "." + base64.RawURLEncoding.EncodeToString(c.mac(scope, body)), nil
}

// Decode reads the position of a cursor made by Encode for the same scope into position (a pointer). It returns
// ErrInvalid (wrapped) for anything else: too long, malformed, signed for another scope or with another key.
func (c *Codec) Decode(scope, cursor string, position any) error {
	if len(cursor) > MaxLen {
		return fmt.Errorf("%w: too long", ErrInvalid)
	}
	parts := strings.Split(cursor, ".")
	if len(parts) != 3 || parts[0] != version {
		return fmt.Errorf("%w: unknown format", ErrInvalid)
	}
	mac, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(mac, c.mac(scope, parts[1])) {
		return fmt.Errorf("%w: signature does not match", ErrInvalid)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return fmt.Errorf("%w: not base64url", ErrInvalid)
	}
	if err := json.Unmarshal(payload, position); err != nil {
		return fmt.Errorf("%w: position: %w", ErrInvalid, err)
	}
	return nil
}

// mac signs the scope and the encoded payload, separated by a byte neither can contain unescaped.
func (c *Codec) mac(scope, body string) []byte {
	h := hmac.New(sha256.New, c.key)
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write([]byte(body))
	return h.Sum(nil)[:macLen]
}
