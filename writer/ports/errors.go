package ports

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/cqrses-aws/pipeline/internal/platform/problem"
	"github.com/cqrses-aws/pipeline/writer/app"
	"github.com/cqrses-aws/pipeline/writer/domain"
)

// errIdempotencyMismatch means an Idempotency-Key was reused with another request (422).
var errIdempotencyMismatch = errors.New("idempotency key reused with a different request")

// statusOf is the one table from the command side's errors to HTTP statuses; anything else is a 500 whose
// detail stays in the log.
var statusOf = []struct {
	err    error
	status int
}{
	{domain.ErrInvalid, http.StatusBadRequest},
	{app.ErrNotRegistered, http.StatusForbidden},
	{domain.ErrForbidden, http.StatusForbidden},
	{domain.ErrNotFound, http.StatusNotFound},
	{domain.ErrNotMember, http.StatusNotFound},
	{domain.ErrAlreadyExists, http.StatusConflict},
	{domain.ErrAlreadyMember, http.StatusConflict},
	{domain.ErrLastAdmin, http.StatusConflict},
	{domain.ErrRoomDeleted, http.StatusConflict},
	{app.ErrPreconditionFailed, http.StatusPreconditionFailed},
	{errIdempotencyMismatch, http.StatusUnprocessableEntity},
	{app.ErrUnavailable, http.StatusServiceUnavailable},
	{app.ErrContention, http.StatusServiceUnavailable},
}

// details are the client-facing explanations; error texts themselves may carry internal detail and are only
// logged.
var details = map[error]string{
	domain.ErrInvalid:         "the request has invalid fields",
	app.ErrNotRegistered:      "register your account first (POST /v1/accounts)",
	domain.ErrForbidden:       "the room's rules do not allow this",
	domain.ErrNotFound:        "no such room, message or account, or not visible to you",
	domain.ErrNotMember:       "the account is not a member of the room",
	domain.ErrAlreadyExists:   "it exists already",
	domain.ErrAlreadyMember:   "the account is a member already",
	domain.ErrLastAdmin:       "a room must keep at least one admin",
	domain.ErrRoomDeleted:     "the room has been deleted",
	app.ErrPreconditionFailed: "the aggregate has moved on since the If-Match version",
	errIdempotencyMismatch:    "this Idempotency-Key was used with a different request",
	app.ErrUnavailable:        "the event store is unavailable; retry later",
	app.ErrContention:         "the aggregate is changing too fast; retry later",
}

// writeError answers err as a problem: its status from the table, field errors for validation failures,
// Retry-After for 503; unknown errors are logged and answered as a bare 500.
func writeError(c *gin.Context, log *slog.Logger, err error) {
	for _, row := range statusOf {
		if !errors.Is(err, row.err) {
			continue
		}
		p := problem.New(row.status, details[row.err])
		var ve *domain.ValidationError
		if errors.As(err, &ve) {
			p = problem.Invalid(problem.FieldError{Field: ve.Field, Reason: ve.Reason})
		}
		if row.status == http.StatusServiceUnavailable {
			c.Header("Retry-After", "1")
			log.WarnContext(c.Request.Context(), "command not run", "route", c.FullPath(),
				"request_id", c.GetString(ctxRequestID), "error", err)
		}
		problem.Write(c.Writer, p)
		c.Abort()
		return
	}
	log.ErrorContext(c.Request.Context(), "command failed", "route", c.FullPath(),
		"request_id", c.GetString(ctxRequestID), "error", err)
	problem.Write(c.Writer, problem.New(http.StatusInternalServerError, "internal error"))
	c.Abort()
}

// writeProblem answers a problem found at the edge, before any command ran.
func writeProblem(c *gin.Context, p problem.Problem) {
	problem.Write(c.Writer, p)
	c.Abort()
}
