package auth

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxAccountIDRunes is the longest account id, in characters; at 4 bytes a character it stays far below
// DynamoDB's 2,048-byte key limit.
const MaxAccountIDRunes = 128

// AccountIDError is the error CheckAccountID returns; its Reason never quotes the id, so it may be shown to the
// client that sent it.
type AccountIDError struct {
	// Reason says which rule the id breaks, e.g. "must be at most 128 characters".
	Reason string
}

// Error returns "invalid account id: <reason>".
func (e *AccountIDError) Error() string { return "invalid account id: " + e.Reason }

// CheckAccountID returns nil when id can be an account id (the sub of a token this package accepts): non-empty,
// valid UTF-8, at most MaxAccountIDRunes printable characters, none of them a space. Otherwise it returns an
// *AccountIDError saying why.
func CheckAccountID(id string) error {
	switch {
	case id == "":
		return &AccountIDError{Reason: "must not be empty"}
	case !utf8.ValidString(id):
		return &AccountIDError{Reason: "must be valid UTF-8"}
	case utf8.RuneCountInString(id) > MaxAccountIDRunes:
		return &AccountIDError{Reason: fmt.Sprintf("must be at most %d characters", MaxAccountIDRunes)}
	}
	for _, r := range id {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return &AccountIDError{Reason: fmt.Sprintf("must not contain spaces or non-printable characters (has %U)", r)}
		}
	}
	return nil
}
