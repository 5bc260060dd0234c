package domain

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Length limits of names and texts, in Unicode code points.
const (
	// MaxNameLength is the longest account or room name.
	MaxNameLength = 80
	// MaxTextLength is the longest message text.
	MaxTextLength = 10_000
)

// ValidateName checks an account or room name: 1 to MaxNameLength code points of valid UTF-8, no control
// character at all (no newline or tab either), not only whitespace. It returns a *ValidationError on field
// "name" (wrapping ErrInvalid) for the first rule broken, or nil.
func ValidateName(name string) error {
	return validateString("name", name, MaxNameLength, func(rune) bool { return false })
}

// ValidateText checks a message text: 1 to MaxTextLength code points of valid UTF-8, no control character but
// newline and tab, not only whitespace. It returns a *ValidationError on field "text" (wrapping ErrInvalid) for
// the first rule broken, or nil.
func ValidateText(text string) error {
	return validateString("text", text, MaxTextLength, func(r rune) bool { return r == '\n' || r == '\t' })
}

// validateString applies the rules shared by names and texts; allowed says which control characters may appear.
func validateString(field, s string, maxLen int, allowed func(rune) bool) error {
	if !utf8.ValidString(s) {
		return invalid(field, "must be valid UTF-8")
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return invalid(field, "must not be empty")
	case n > maxLen:
		return invalid(field, "must be at most "+strconv.Itoa(maxLen)+" characters")
	}
	blank := true
	for _, r := range s {
		if unicode.IsControl(r) && !allowed(r) {
			return invalid(field, "must not contain control characters")
		}
		if !unicode.IsSpace(r) {
			blank = false
		}
	}
	if blank {
		return invalid(field, "must not be only whitespace")
	}
	return nil
}
