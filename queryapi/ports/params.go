package ports

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/cqrses-aws/pipeline/internal/consistency"
	"github.com/cqrses-aws/pipeline/internal/platform/problem"
	"github.com/cqrses-aws/pipeline/queryapi/app"
)

// The bounds of the query parameters.
const (
	defaultLimit = 20
	maxLimit     = 100
	// maxQueryLen is the longest search text, in characters.
	maxQueryLen = 500
	// maxIDLen is the longest id a parameter may carry; the writer's ids are far shorter.
	maxIDLen = 200
)

// params reads a request's query parameters, collecting every problem so that one answer names them all.
type params struct {
	c      *gin.Context
	caller string
	opts   app.Options
	errs   []problem.FieldError
	codec  interface {
		Decode(scope, cursor string, position any) error
	}
}

// params starts reading c's parameters with consistent_with, which every query takes.
func (s *HTTPServer) params(c *gin.Context) *params {
	p := &params{c: c, caller: callerOf(c), codec: s.cursors}
	p.opts.Caller = p.caller
	if raw, ok := c.GetQuery("consistent_with"); ok {
		if tok, err := consistency.Parse(raw); err != nil || !validID(tok.AggregateID) {
			p.reject("consistent_with", "not a consistency token returned by a command")
		} else if tok, err := s.tokens.Verify(p.caller, raw); err == nil {
			p.opts.ConsistentWith = &tok
		}
		// A token not signed for this caller (another caller's, altered, or an unsigned old one) is answered
		// exactly as no token (no wait, no stale mark), so that it tells nothing about a room the caller cannot
		// see.
	}
	return p
}

func (p *params) reject(field, reason string) {
	p.errs = append(p.errs, problem.FieldError{Field: field, Reason: reason})
}

// limit returns the page size, default 20.
func (p *params) limit() int {
	raw, ok := p.c.GetQuery("limit")
	if !ok {
		return defaultLimit
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxLimit {
		p.reject("limit", "must be an integer from 1 to 100")
		return defaultLimit
	}
	return n
}

// cursor decodes the cursor parameter, when present, into position; a cursor made for another listing (scope)
// or altered is rejected.
func (p *params) cursor(scope string, position any) {
	raw, ok := p.c.GetQuery("cursor")
	if !ok {
		return
	}
	if err := p.codec.Decode(scope, raw, position); err != nil {
		p.reject("cursor", "not a cursor of this listing; use next_cursor as returned")
	}
}

// text returns the required free-text parameter name, trimmed.
func (p *params) text(name string) string {
	v := strings.TrimSpace(p.c.Query(name))
	switch {
	case v == "":
		p.reject(name, "is required")
	case !utf8.ValidString(v):
		p.reject(name, "must be valid UTF-8")
	case utf8.RuneCountInString(v) > maxQueryLen:
		p.reject(name, "must be at most 500 characters")
	}
	return v
}

// optionalID returns the id parameter name, "" when absent.
func (p *params) optionalID(name string) string {
	v := p.c.Query(name)
	if v != "" && !validID(v) {
		p.reject(name, "is not an id")
	}
	return v
}

// validID reports whether id can be an id at all: not empty, not too long, valid UTF-8 without NUL (which
// Postgres text cannot hold). An id that fails is unknown, whatever it was meant to be.
func validID(id string) bool {
	return id != "" && len(id) <= maxIDLen && utf8.ValidString(id) && !strings.ContainsRune(id, 0)
}

// pathID returns the path parameter name, or answers 404 (and returns false) when it cannot be an id.
func pathID(c *gin.Context, name string) (string, bool) {
	id := c.Param(name)
	if !validID(id) {
		problem.Write(c.Writer, problem.New(http.StatusNotFound, notFoundDetail))
		c.Abort()
		return "", false
	}
	return id, true
}

// ok answers the 400 problem listing every rejected parameter, and reports whether there was none.
func (p *params) ok() bool {
	if len(p.errs) == 0 {
		return true
	}
	problem.Write(p.c.Writer, problem.Invalid(p.errs...))
	p.c.Abort()
	return false
}

// notFoundDetail is the one answer for what is unknown and what the caller may not see.
const notFoundDetail = "no such room or account, or not visible to you"

// fail answers err as a problem: 404 for what is unknown or invisible, 503 with Retry-After for an unreachable
// read model; anything else is logged and answered as a bare 500.
func (s *HTTPServer) fail(c *gin.Context, err error) {
	switch {
	case errors.Is(err, app.ErrNotFound):
		problem.Write(c.Writer, problem.New(http.StatusNotFound, notFoundDetail))
	case errors.Is(err, app.ErrUnavailable):
		s.log.WarnContext(c.Request.Context(), "query not answered", "route", c.FullPath(), "error", err)
		c.Header("Retry-After", "1")
		problem.Write(c.Writer, problem.New(http.StatusServiceUnavailable, "a read model is unavailable; retry later"))
	default:
		s.log.ErrorContext(c.Request.Context(), "query failed", "route", c.FullPath(), "error", err)
		problem.Write(c.Writer, problem.New(http.StatusInternalServerError, "internal error"))
	}
	c.Abort()
}
