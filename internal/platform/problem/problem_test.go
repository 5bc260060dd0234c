package problem_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/platform/problem"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		p      problem.Problem
		status int
		body   string
	}{
		{"new", problem.New(http.StatusNotFound, "no such room"), 404,
			`{"type":"about:blank","title":"Not Found","status":404,"detail":"no such room"}`},
		{"filled in", problem.Problem{Status: http.StatusConflict, Detail: "already a member"}, 409,
			`{"type":"about:blank","title":"Conflict","status":409,"detail":"already a member"}`},
		{"own type and instance", problem.Problem{Type: "https://example.com/probs/stale", Title: "Stale",
			Status: 412, Detail: "moved on", Instance: "/v1/rooms/r1"}, 412,
			`{"type":"https://example.com/probs/stale","title":"Stale","status":412,"detail":"moved on","instance":"/v1/rooms/r1"}`},
		{"invalid fields", problem.Invalid(problem.FieldError{Field: "name", Reason: "must not be empty"}), 400,
			`{"type":"about:blank","title":"Bad Request","status":400,"detail":"the request has invalid fields",` +
				`"errors":[{"field":"name","reason":"must not be empty"}]}`},
		{"zero status", problem.Problem{Title: "Oops", Detail: "x"}, 500,
			`{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"x"}`},
		{"success status", problem.Problem{Status: http.StatusOK}, 500,
			`{"type":"about:blank","title":"Internal Server Error","status":500,"detail":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			problem.Write(rec, tt.p)
			if rec.Code != tt.status {
				t.Errorf("code = %d, want %d", rec.Code, tt.status)
			}
			if got := rec.Header().Get("Content-Type"); got != problem.ContentType {
				t.Errorf("Content-Type = %q, want %q", got, problem.ContentType)
			}
			if got := strings.TrimSpace(rec.Body.String()); got != tt.body {
				t.Errorf("body = %s\nwant   %s", got, tt.body)
			}
		})
	}
}

func TestWriteKeepsHeadersSetBefore(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	rec.Header().Set("Retry-After", "5")
	problem.Write(rec, problem.New(http.StatusServiceUnavailable, "search is down"))
	if got := rec.Header().Get("Retry-After"); got != "5" {
		t.Errorf("Retry-After = %q, want 5", got)
	}
	var p problem.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if p.Status != 503 || p.Title != "Service Unavailable" {
		t.Errorf("problem = %+v", p)
	}
}

func TestInvalidCopiesErrors(t *testing.T) {
	t.Parallel()
	errs := []problem.FieldError{{Field: "text", Reason: "too long"}}
	p := problem.Invalid(errs...)
	errs[0].Reason = "changed"
	if p.Errors[0].Reason != "too long" {
		t.Error("Invalid shares the caller's slice")
	}
}
