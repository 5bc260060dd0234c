package cursor_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/queryapi/cursor"
)

type position struct {
	At int64  `json:"at"`
	ID string `json:"id"`
}

func codec(t *testing.T, key string) *cursor.Codec {
	t.Helper()
	c, err := cursor.New([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	c := codec(t, "0123456789abcdef")
	want := position{At: 1764100000000, ID: "msg-01J"}
	s, err := c.Encode("messages|alice|room-1", want)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s, "msg-01J") {
		t.Errorf("cursor %q shows its position in clear", s)
	}
	var got position
	if err := c.Decode("messages|alice|room-1", s, &got); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if got != want {
		t.Errorf("Decode = %+v, want %+v", got, want)
	}
}

func TestRefusesWhatItDidNotMake(t *testing.T) {
	t.Parallel()
	c := codec(t, "0123456789abcdef")
	good, err := c.Encode("messages|alice|room-1", position{At: 1, ID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := codec(t, "fedcba9876543210").Encode("messages|alice|room-1", position{At: 1, ID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	forged, err := c.Encode("elsewhere", position{At: 1, ID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	flipped := []byte(good)
	flipped[5] ^= 1
	for name, s := range map[string]string{
		"empty":          "",
		"garbage":        "not a cursor",
		"one char off":   string(flipped),
		"other key":      other,
		"other scope":    forged,
		"other version":  "2" + good[1:],
		"signature only": good[strings.LastIndex(good, "."):],
		"too long":       good + strings.Repeat("A", cursor.MaxLen),
	} {
		var p position
		if err := c.Decode("messages|alice|room-1", s, &p); !errors.Is(err, cursor.ErrInvalid) {
			t.Errorf("%s: Decode error = %v, want ErrInvalid", name, err)
		}
	}
}

func TestNewRefusesShortKeys(t *testing.T) {
	t.Parallel()
	if _, err := cursor.New([]byte("short")); err == nil {
		t.Error("New accepted a 5-byte key")
	}
}
