package domain_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/cqrses-aws/pipeline/writer/domain"
)

func TestValidateName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		ok       bool
	}{
		{"ascii", "general", true},
		{"one character", "a", true},
		{"80 ascii", strings.Repeat("n", 80), true},
		{"81 ascii", strings.Repeat("n", 81), false},
		{"80 multibyte", strings.Repeat("あ", 80), true},
		{"81 multibyte", strings.Repeat("あ", 81), false},
		{"80 four-byte", strings.Repeat("😀", 80), true},
		{"inner spaces", "  a b  ", true},
		{"replacement character is valid", "\uFFFD", true},
		{"empty", "", false},
		{"only spaces", "   ", false},
		{"only ideographic space", "\u3000\u3000", false},
		{"newline", "a\nb", false},
		{"tab", "a\tb", false},
		{"bell", "a\u0007b", false},
		{"NUL", "a\x00b", false},
		{"DEL", "a\x7fb", false},
		{"C1 control", "a\u0085b", false},
		{"invalid UTF-8", "a\xffb", false},
		{"truncated UTF-8", "\xe3\x81", false},
		{"surrogate half", "\xed\xa0\x80", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkValidation(t, domain.ValidateName(tc.in), tc.ok, "name")
		})
	}
}

func TestValidateText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in string
		ok       bool
	}{
		{"ascii", "hello", true},
		{"10,000 ascii", strings.Repeat("a", 10_000), true},
		{"10,001 ascii", strings.Repeat("a", 10_001), false},
		{"10,000 multibyte", strings.Repeat("あ", 10_000), true},
		{"10,001 multibyte", strings.Repeat("あ", 10_001), false},
		{"newline", "line one\nline two", true},
		{"tab", "a\tb", true},
		{"leading newline", "\nx", true},
		{"empty", "", false},
		{"only whitespace", " \n\t ", false},
		{"carriage return", "a\r\nb", false},
		{"bell", "a\u0007b", false},
		{"NUL", "\x00", false},
		{"escape", "\x1b[31mred", false},
		{"invalid UTF-8", "ok\xc0\xafok", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkValidation(t, domain.ValidateText(tc.in), tc.ok, "text")
		})
	}
}

func TestParseRole(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want domain.Role
		ok   bool
	}{
		{"member", domain.RoleMember, true},
		{"admin", domain.RoleAdmin, true},
		{"Admin", "", false},
		{"owner", "", false},
		{"", "", false},
		{" member", "", false},
	}
	for _, tc := range cases {
		got, err := domain.ParseRole(tc.in)
		if got != tc.want {
			t.Errorf("ParseRole(%q) = %q, want %q", tc.in, got, tc.want)
		}
		checkValidation(t, err, tc.ok, "role")
	}
}

func TestValidationErrorUnwrapsToErrInvalid(t *testing.T) {
	t.Parallel()
	err := error(&domain.ValidationError{Field: "name", Reason: "must not be empty"})
	wrapped := errors.Join(errors.New("context"), err)
	if !errors.Is(wrapped, domain.ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false", wrapped)
	}
	var ve *domain.ValidationError
	if !errors.As(wrapped, &ve) || ve.Field != "name" {
		t.Errorf("errors.As gave %+v", ve)
	}
	if got := err.Error(); got != "invalid name: must not be empty" {
		t.Errorf("Error() = %q", got)
	}
}

// checkValidation checks that err is nil when ok, else a *ValidationError on field that wraps ErrInvalid.
func checkValidation(tb testing.TB, err error, ok bool, field string) {
	tb.Helper()
	if ok {
		if err != nil {
			tb.Errorf("error %v, want none", err)
		}
		return
	}
	var ve *domain.ValidationError
	if !errors.Is(err, domain.ErrInvalid) || !errors.As(err, &ve) {
		tb.Fatalf("error %v, want a *ValidationError wrapping ErrInvalid", err)
	}
	if ve.Field != field || ve.Reason == "" {
		tb.Errorf("ValidationError %+v, want field %q and a reason", ve, field)
	}
}

// acceptableText is an independent statement of the text rules, decoding byte by byte.
func acceptableText(s string) bool {
	count, blank := 0, true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			return false
		}
		i += size
		count++
		isC0C1 := r < 0x20 || (r >= 0x7f && r < 0xa0)
		if isC0C1 && r != '\n' && r != '\t' {
			return false
		}
		if !unicode.Is(unicode.White_Space, r) {
			blank = false
		}
	}
	return count >= 1 && count <= 10_000 && !blank
}

func FuzzValidateText(f *testing.F) {
	for _, seed := range []string{
		"hello", "", " ", "\n\t", "a\nb", "a\tb", "a\rb", "\u0007", "\x00", "\xff", "\xe3\x81", "\xed\xa0\x80",
		"\uFFFD", "\u3000", "\u0085", "\u00a0x", "明日の会議は10時からです", strings.Repeat("あ", 10_000),
		strings.Repeat("あ", 10_001), strings.Repeat("a", 10_000) + "\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := domain.ValidateText(s)
		if want := acceptableText(s); (err == nil) != want {
			t.Fatalf("ValidateText(%q) = %v, want accepted %t", s, err, want)
		}
		if err != nil {
			var ve *domain.ValidationError
			if !errors.As(err, &ve) || ve.Field != "text" || !errors.Is(err, domain.ErrInvalid) {
				t.Fatalf("ValidateText(%q) = %v, want a *ValidationError on text", s, err)
			}
		}
	})
}
