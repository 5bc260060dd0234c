// Package consistency defines the read-your-writes token: the writer returns one with every command, and a query
// that passes it back waits until the read model has applied that aggregate's seq.
package consistency

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMalformed is returned by Parse for a token this package did not make.
var ErrMalformed = errors.New("malformed consistency token")

// prefix versions the encoding so it can change without breaking old tokens silently.
const prefix = "c1."

// Token names one write: the aggregate and the seq its last event got.
type Token struct {
	AggregateID string
	Seq         int64
}

// String encodes the token as an opaque, URL-safe string.
func (t Token) String() string {
	raw := strconv.FormatInt(t.Seq, 10) + ":" + t.AggregateID
	return prefix + base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// Parse decodes a token made by String; it returns ErrMalformed (wrapped) for anything else.
func Parse(s string) (Token, error) {
	body, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return Token{}, fmt.Errorf("%w: unknown format", ErrMalformed)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return Token{}, fmt.Errorf("%w: not base64url", ErrMalformed)
	}
	seqText, id, ok := strings.Cut(string(raw), ":")
	if !ok || id == "" {
		return Token{}, fmt.Errorf("%w: no aggregate id", ErrMalformed)
	}
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if err != nil || seq < 1 {
		return Token{}, fmt.Errorf("%w: bad seq", ErrMalformed)
	}
	return Token{AggregateID: id, Seq: seq}, nil
}
