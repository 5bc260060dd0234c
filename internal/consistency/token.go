// Package consistency defines the read-your-writes token: the writer returns one with every command, and a query
// that passes it back waits until the read model has applied that aggregate's seq.
//
// A token is bound to the caller it was minted for: the writer signs (HMAC-SHA256) the caller's account id with
// the aggregate id and seq, and the query API honours a token only when the signature holds for the request's
// caller. A token that does not (another caller's, altered, or an unsigned one of the first format) is worth no
// more than no token at all, so that a token tells nothing about a room its holder cannot see.
package consistency

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMalformed is returned by Parse and Key.Verify for a string that is not a consistency token at all.
var ErrMalformed = errors.New("malformed consistency token")

// ErrNotVouched is returned by Key.Verify for a well-formed token this key did not sign for the caller: another
// caller's, altered, signed with another key, or unsigned (the first format). Such a token must change nothing.
var ErrNotVouched = errors.New("consistency token not signed for this caller")

// The formats, versioned by prefix so that the encoding can change without breaking old tokens silently: c1 is
// the first, unsigned one (still recognised, never honoured), c2 carries an HMAC bound to the caller.
const (
	prefixUnsigned = "c1."
	prefixSigned   = "c2."
)

// macSize is the length of a c2 token's HMAC-SHA256.
const macSize = sha256.Size

// Token names one write: the aggregate and the seq its last event got.
type Token struct {
	AggregateID string
	Seq         int64
}

// String encodes the token in the first, unsigned format. The query API recognises it but never waits for it;
// commands answer with Key.Sign.
func (t Token) String() string {
	return prefixUnsigned + base64.RawURLEncoding.EncodeToString([]byte(t.body()))
}

// body is the token's readable part: "<seq>:<aggregate id>" (the seq has no colon, so the first one separates).
func (t Token) body() string { return strconv.FormatInt(t.Seq, 10) + ":" + t.AggregateID }

// Parse decodes a token of either format without checking its signature; it returns ErrMalformed (wrapped) for
// anything else. Use Key.Verify to decide whether a query may wait for it.
func Parse(s string) (Token, error) {
	tok, _, err := parse(s)
	return tok, err
}

// parse decodes s and returns its token and, for the signed format, its MAC (nil for the unsigned one).
func parse(s string) (Token, []byte, error) {
	if body, ok := strings.CutPrefix(s, prefixUnsigned); ok {
		tok, err := decodeBody(body)
		return tok, nil, err
	}
	rest, ok := strings.CutPrefix(s, prefixSigned)
	if !ok {
		return Token{}, nil, fmt.Errorf("%w: unknown format", ErrMalformed)
	}
	body, macText, ok := strings.Cut(rest, ".")
	if !ok {
		return Token{}, nil, fmt.Errorf("%w: no signature", ErrMalformed)
	}
	mac, err := base64.RawURLEncoding.DecodeString(macText)
	if err != nil || len(mac) != macSize {
		return Token{}, nil, fmt.Errorf("%w: bad signature encoding", ErrMalformed)
	}
	tok, err := decodeBody(body)
	return tok, mac, err
}

func decodeBody(body string) (Token, error) {
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return Token{}, fmt.Errorf("%w: not base64url", ErrMalformed)
	}
	seqText, id, ok := strings.Cut(string(raw), ":")
	if !ok || id == "" {
		return Token{}, fmt.Errorf("%w: no aggregate id", ErrMalformed)
	}
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if err != nil || seq < 1 || strconv.FormatInt(seq, 10) != seqText {
		return Token{}, fmt.Errorf("%w: bad seq", ErrMalformed)
	}
	return Token{AggregateID: id, Seq: seq}, nil
}

// MinSecretLen is the shortest secret NewKey accepts, in bytes.
const MinSecretLen = 32

// derivationLabel separates the token key derived from the JWT secret from every other use of that secret.
const derivationLabel = "cqrses-aws/pipeline consistency token key v1"

// Key signs tokens for a caller (the writer) and verifies them for a caller (the query API); every instance of
// both services needs the same key. It is safe for concurrent use.
type Key struct {
	secret []byte
}

// NewKey returns the key with secret; it fails when the secret is shorter than MinSecretLen.
func NewKey(secret []byte) (*Key, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("consistency token secret: %d bytes, want at least %d", len(secret), MinSecretLen)
	}
	return &Key{secret: append([]byte(nil), secret...)}, nil
}

// DeriveKey returns the key derived from the JWT HS256 secret (an HMAC of a fixed label under it), for a
// deployment that sets no token secret of its own; it fails when authSecret is empty.
func DeriveKey(authSecret []byte) (*Key, error) {
	if len(authSecret) == 0 {
		return nil, errors.New("consistency token key: no secret to derive it from")
	}
	m := hmac.New(sha256.New, authSecret)
	m.Write([]byte(derivationLabel))
	return &Key{secret: m.Sum(nil)}, nil
}

// Sign returns t as an opaque, URL-safe token that only caller can use.
func (k *Key) Sign(caller string, t Token) string {
	body := base64.RawURLEncoding.EncodeToString([]byte(t.body()))
	return prefixSigned + body + "." + base64.RawURLEncoding.EncodeToString(k.mac(caller, t))
}

// Verify decodes s and checks that k signed it for caller. It returns ErrMalformed (wrapped) when s is not a
// token at all, and ErrNotVouched (wrapped) when it is one that k did not sign for caller.
func (k *Key) Verify(caller, s string) (Token, error) {
	tok, mac, err := parse(s)
	if err != nil {
		return Token{}, err
	}
	if mac == nil {
		return Token{}, fmt.Errorf("%w: unsigned token", ErrNotVouched)
	}
	if !hmac.Equal(mac, k.mac(caller, tok)) {
		return Token{}, ErrNotVouched
	}
	return tok, nil
}

// mac is the HMAC of the caller, the aggregate id and the seq, each length-prefixed so that no two triples
// share an input.
func (k *Key) mac(caller string, t Token) []byte {
	msg := make([]byte, 0, len(prefixSigned)+len(caller)+len(t.AggregateID)+3*binary.MaxVarintLen64)
	msg = append(msg, prefixSigned...)
	msg = binary.AppendUvarint(msg, uint64(len(caller)))
	msg = append(msg, caller...)
	msg = binary.AppendUvarint(msg, uint64(len(t.AggregateID)))
	msg = append(msg, t.AggregateID...)
	msg = binary.AppendVarint(msg, t.Seq)
	m := hmac.New(sha256.New, k.secret)
	m.Write(msg)
	return m.Sum(nil)
}
