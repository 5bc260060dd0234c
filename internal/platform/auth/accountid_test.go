package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/platform/auth"
)

func TestCheckAccountID(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		id     string
		reason string // empty: the id is valid
	}{
		{"plain", "alice", ""},
		{"Cognito UUID", "3f1c2b7e-9a4d-4c1e-8f2a-6b5d4e3c2a10", ""},
		{"printable unicode", "アリス", ""},
		{"128 characters", strings.Repeat("s", 128), ""},
		{"128 three-byte characters", strings.Repeat("あ", 128), ""},
		{"empty", "", "must not be empty"},
		{"129 characters", strings.Repeat("s", 129), "must be at most 128 characters"},
		{"2,049 bytes", strings.Repeat("a", 2049), "must be at most 128 characters"},
		{"invalid UTF-8", "al\xffice", "must be valid UTF-8"},
		{"space", "al ice", "must not contain spaces or non-printable characters (has U+0020)"},
		{"tab", "al\tice", "must not contain spaces or non-printable characters (has U+0009)"},
		{"no-break space", "al\u00a0ice", "must not contain spaces or non-printable characters (has U+00A0)"},
		{"control character", "al\u0007ice", "must not contain spaces or non-printable characters (has U+0007)"},
		{"DEL", "alice\x7f", "must not contain spaces or non-printable characters (has U+007F)"},
		{"zero-width space", "al\u200bice", "must not contain spaces or non-printable characters (has U+200B)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := auth.CheckAccountID(tc.id)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("CheckAccountID(%q) = %v, want nil", tc.id, err)
				}
				return
			}
			var idErr *auth.AccountIDError
			if !errors.As(err, &idErr) {
				t.Fatalf("CheckAccountID(%q) = %v, want an *AccountIDError", tc.id, err)
			}
			if idErr.Reason != tc.reason {
				t.Errorf("Reason = %q, want %q", idErr.Reason, tc.reason)
			}
		})
	}
}
