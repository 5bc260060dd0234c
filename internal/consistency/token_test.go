package consistency_test

import (
	"errors"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/consistency"
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
	for _, s := range []string{"", "c1.", "c1.!!!", "c2.MTpyb29t", "c1.cm9vbQ", "c1.MDpyb29t", "c1.LTE6cm9vbQ", "c1.MTo"} {
		if _, err := consistency.Parse(s); !errors.Is(err, consistency.ErrMalformed) {
			t.Errorf("Parse(%q) error = %v, want ErrMalformed", s, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("c1.MTpyb29tLTE")
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
