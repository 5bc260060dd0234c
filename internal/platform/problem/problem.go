// Package problem writes RFC 9457 problem details (application/problem+json), the one error body every
// service answers with.
package problem

import (
	"encoding/json"
	"net/http"
)

// ContentType is the media type of a problem details body.
const ContentType = "application/problem+json"

// blank is the problem type that means "no more than the status code says" (RFC 9457, section 4.2.1).
const blank = "about:blank"

// FieldError says which input field was rejected and why; Field names it as the client sent it (e.g. "name",
// or a query parameter such as "limit").
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// Problem is an RFC 9457 problem details object; Errors lists field-level validation failures.
type Problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail"`
	Instance string       `json:"instance,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
}

// New returns a problem of type "about:blank" for status, titled with the status text, carrying detail.
func New(status int, detail string) Problem {
	return Problem{Type: blank, Title: http.StatusText(status), Status: status, Detail: detail}
}

// Invalid returns a 400 problem listing the rejected fields.
func Invalid(errs ...FieldError) Problem {
	p := New(http.StatusBadRequest, "the request has invalid fields")
	p.Errors = append([]FieldError(nil), errs...)
	return p
}

// Write sends p with its status code and the problem+json content type; an empty Type becomes "about:blank",
// an empty Title the status text, and a Status outside 400..599 becomes 500, so the answer is always an error.
// A failure to write the body is not reported: the client has gone and no one is left to tell.
func Write(w http.ResponseWriter, p Problem) {
	if p.Status < 400 || p.Status > 599 {
		p.Status = http.StatusInternalServerError
		p.Title = ""
	}
	if p.Type == "" {
		p.Type = blank
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	// Some writers (Gin's among them) keep a Content-Length set earlier; the body here replaces it.
	h.Del("Content-Length")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
