package consistency_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/consistency"
	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tok := range []consistency.Token{
		{AggregateID: "room-01JD5Z7Q0000000000000000", Seq: 1},
		{AggregateID: "auth0|user:with:colons", Seq: 1 << 40},
	} {
		got, err := consistency.Parse(tok.String())
		if err != nil || got != tok {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tok.String(), got, err, tok)
		}
	}
}

func TestParseRejectsForeignTokens(t *testing.T) {
	t.Parallel()
	k := mustKey(t, strings.Repeat("k", 32))
	signed := k.Sign("alice", consistency.Token{AggregateID: "room", Seq: 1})
	body, _, _ := strings.Cut(strings.TrimPrefix(signed, "c2."), ".")
	for _, s := range []string{"", "c1.", "c1.!!!", "c3.MTpyb29t", "c1.cm9vbQ", "c1.MDpyb29t", "c1.LTE6cm9vbQ",
		"c1.MTo", "c1.KzE6cm9vbQ", // "+1:room"
		"c2.", "c2." + body, "c2." + body + ".", "c2." + body + ".c2hvcnQ", "c2.!!!." + strings.Repeat("A", 43),
		"c2.MTo." + strings.Repeat("A", 43)} {
		if _, err := consistency.Parse(s); !errors.Is(err, consistency.ErrMalformed) {
			t.Errorf("Parse(%q) error = %v, want ErrMalformed", s, err)
		}
		if _, err := k.Verify("alice", s); !errors.Is(err, consistency.ErrMalformed) {
			t.Errorf("Verify(%q) error = %v, want ErrMalformed", s, err)
		}
	}
}

func mustKey(t *testing.T, secret string) *consistency.Key {
	t.Helper()
	k, err := consistency.NewKey([]byte(secret))
	if err != nil {
		t.Fatalf("NewKey: %v", err)
	}
	return k
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	k := mustKey(t, strings.Repeat("s", 32))
	tok := consistency.Token{AggregateID: "auth0|user:with:colons", Seq: 1 << 40}
	s := k.Sign("alice", tok)
	if got, err := k.Verify("alice", s); err != nil || got != tok {
		t.Fatalf("Verify(own token) = %+v, %v; want %+v", got, err, tok)
	}
	if got, err := consistency.Parse(s); err != nil || got != tok {
		t.Errorf("Parse(signed) = %+v, %v; want %+v", got, err, tok)
	}
	if strings.Contains(s, "alice") || strings.Contains(s, base64.RawURLEncoding.EncodeToString([]byte("alice"))) {
		t.Errorf("token %q carries the caller", s)
	}
	other := mustKey(t, strings.Repeat("t", 32))
	notVouched := []struct {
		name, caller, token string
		key                 *consistency.Key
	}{
		{"another caller's", "bob", s, k},
		{"a caller that is a prefix", "alic", s, k},
		{"signed with another key", "alice", other.Sign("alice", tok), k},
		{"unsigned (first format)", "alice", tok.String(), k},
		{"seq raised", "alice", resign(t, s, "1099511627777:auth0|user:with:colons"), k},
		{"aggregate changed", "alice", resign(t, s, "1099511627776:room-1"), k},
		{"signature flipped", "alice", flipLast(s), k},
	}
	for _, tc := range notVouched {
		if _, err := tc.key.Verify(tc.caller, tc.token); !errors.Is(err, consistency.ErrNotVouched) {
			t.Errorf("%s: Verify = %v, want ErrNotVouched", tc.name, err)
		}
	}
}

// resign replaces the body of the signed token s with body, keeping its signature: a tampered token.
func resign(t *testing.T, s, body string) string {
	t.Helper()
	_, mac, ok := strings.Cut(strings.TrimPrefix(s, "c2."), ".")
	if !ok {
		t.Fatalf("token %q has no signature", s)
	}
	return "c2." + base64.RawURLEncoding.EncodeToString([]byte(body)) + "." + mac
}

// flipLast changes the last character of s to another of the base64url alphabet that keeps the length valid.
func flipLast(s string) string {
	last := s[len(s)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'E'
	}
	return s[:len(s)-1] + string(repl)
}

func TestKeys(t *testing.T) {
	t.Parallel()
	if _, err := consistency.NewKey([]byte("short")); err == nil {
		t.Error("NewKey accepted a 5-byte secret")
	}
	if _, err := consistency.DeriveKey(nil); err == nil {
		t.Error("DeriveKey accepted an empty secret")
	}
	tok := consistency.Token{AggregateID: "room", Seq: 3}
	a, _ := consistency.DeriveKey([]byte("jwt-secret-0123456789"))
	b, _ := consistency.DeriveKey([]byte("jwt-secret-0123456789"))
	c, _ := consistency.DeriveKey([]byte("jwt-secret-9876543210"))
	if _, err := b.Verify("alice", a.Sign("alice", tok)); err != nil {
		t.Errorf("keys derived from one secret disagree: %v", err)
	}
	if _, err := c.Verify("alice", a.Sign("alice", tok)); !errors.Is(err, consistency.ErrNotVouched) {
		t.Errorf("keys derived from two secrets agree: %v", err)
	}
	// The derived key is not the JWT secret itself, so a token never serves as a JWT signature or the reverse.
	raw := mustKey(t, "jwt-secret-0123456789-padded-to-32")
	derived, _ := consistency.DeriveKey([]byte("jwt-secret-0123456789-padded-to-32"))
	if _, err := derived.Verify("alice", raw.Sign("alice", tok)); err == nil {
		t.Error("the derived key equals the secret it was derived from")
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	long := config.Secret(strings.Repeat("x", 32))
	cases := []struct {
		name       string
		cfg        consistency.Config
		authSecret config.Secret
		wantErr    string
	}{
		{"own secret", consistency.Config{Secret: long}, "", ""},
		{"derived from the JWT secret", consistency.Config{}, "jwt-secret-0123456789", ""},
		{"neither (JWKS mode)", consistency.Config{}, "", "CONSISTENCY_TOKEN_SECRET is required"},
		{"short secret", consistency.Config{Secret: "short"}, "jwt-secret-0123456789", "at least 32 bytes"},
	}
	for _, tc := range cases {
		_, err := tc.cfg.Key(tc.authSecret)
		if verr := tc.cfg.Validate(tc.authSecret); (verr == nil) != (err == nil) {
			t.Errorf("%s: Validate = %v but Key = %v", tc.name, verr, err)
		}
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: Key = %v, want a key", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: Key = %v, want an error with %q", tc.name, err, tc.wantErr)
		}
	}
	// The explicit secret wins over the JWT secret.
	tok := consistency.Token{AggregateID: "room", Seq: 1}
	own, _ := consistency.Config{Secret: long}.Key("jwt-secret-0123456789")
	if _, err := mustKey(t, long.Reveal()).Verify("alice", own.Sign("alice", tok)); err != nil {
		t.Errorf("the configured secret is not the key: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("c1.MTpyb29tLTE")
	f.Add("c2.MTpyb29tLTE." + strings.Repeat("A", 43))
	f.Add("garbage")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := consistency.Parse(s)
		if err != nil {
			return
		}
		again, err := consistency.Parse(tok.String())
		if err != nil || again != tok {
			t.Fatalf("token %+v from %q does not round-trip: %+v, %v", tok, s, again, err)
		}
	})
}

func FuzzVerify(f *testing.F) {
	k, _ := consistency.NewKey([]byte(strings.Repeat("f", 32)))
	f.Add("alice", "room", int64(1))
	f.Fuzz(func(t *testing.T, caller, id string, seq int64) {
		if id == "" || seq < 1 {
			return
		}
		tok := consistency.Token{AggregateID: id, Seq: seq}
		if got, err := k.Verify(caller, k.Sign(caller, tok)); err != nil || got != tok {
			t.Fatalf("Verify(Sign(%q, %+v)) = %+v, %v", caller, tok, got, err)
		}
		if _, err := k.Verify(caller+"x", k.Sign(caller, tok)); !errors.Is(err, consistency.ErrNotVouched) {
			t.Fatalf("a token for %q verified for %q: %v", caller, caller+"x", err)
		}
	})
}
