package ports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/cqrses-aws/pipeline/internal/platform/auth"
	"github.com/cqrses-aws/pipeline/internal/platform/problem"
	"github.com/cqrses-aws/pipeline/internal/platform/tracing"
	"github.com/cqrses-aws/pipeline/writer/adapters"
	"github.com/cqrses-aws/pipeline/writer/domain"
)

// MaxBody is the largest request body a command accepts (413 beyond).
const MaxBody = 64 << 10

const (
	ctxRequestID = "ports.request_id"
	ctxBody      = "ports.body"
)

var (
	// requestIDPattern accepts the ids proxies and clients commonly send; anything else is replaced.
	requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:/+=-]{1,128}$`)
	// traceparentPattern is W3C trace context, version 00.
	traceparentPattern = regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)
	// idempotencyKeyPattern bounds the keys clients may send.
	idempotencyKeyPattern = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)
	// roomIDPattern and messageIDPattern match the ids the writer makes.
	roomIDPattern    = regexp.MustCompile(`^room-[0-9A-HJKMNP-TV-Z]{26}$`)
	messageIDPattern = regexp.MustCompile(`^msg-[0-9A-HJKMNP-TV-Z]{26}$`)
)

// requestID takes the correlation id from X-Request-Id when it is well formed, else makes one, and echoes it.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-Id")
		if !requestIDPattern.MatchString(id) {
			id = adapters.NewID()
		}
		c.Set(ctxRequestID, id)
		c.Header("X-Request-Id", id)
		c.Next()
	}
}

// Deadline gives each request that passes it the deadline d from now, for everything the command does after it:
// the wait for its aggregate, its store calls and their retries.
func Deadline(d time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), d)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// traceParent is the trace context stored with the command's events: the current span's (the server span, or
// the caller's traceparent that ginapp put in the context), else the caller's header when it is well formed.
func traceParent(c *gin.Context) string {
	if tp := tracing.TraceParent(c.Request.Context()); tp != "" {
		return tp
	}
	if tp := c.GetHeader(tracing.HeaderTraceParent); traceparentPattern.MatchString(tp) {
		return tp
	}
	return ""
}

// readBody enforces the body limit (413) and, for bodies, the JSON media type (415), and keeps the bytes for
// decoding and for the idempotency hash.
func readBody() gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > MaxBody {
			writeProblem(c, problem.New(http.StatusRequestEntityTooLarge, fmt.Sprintf("the body exceeds %d bytes", MaxBody)))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, MaxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeProblem(c, problem.New(http.StatusRequestEntityTooLarge, fmt.Sprintf("the body exceeds %d bytes", MaxBody)))
				return
			}
			writeProblem(c, problem.New(http.StatusBadRequest, "the body could not be read"))
			return
		}
		if len(body) > 0 || c.Request.Method == http.MethodPost {
			if !isJSON(c.GetHeader("Content-Type")) {
				writeProblem(c, problem.New(http.StatusUnsupportedMediaType, "send the body as application/json"))
				return
			}
		}
		c.Set(ctxBody, body)
		c.Next()
	}
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// pathIDs are the ids a command route names in its path, checked.
type pathIDs struct {
	room    domain.RoomID
	message domain.MessageID
	account domain.AccountID
}

// body is a command's JSON body; check reports the fields that are missing or invalid once it is decoded.
type body interface {
	check() []problem.FieldError
}

// readInput checks a command request at the edge, before any command runs: every id in its path and, unless b
// is nil, its body, decoded into b. A path id that cannot exist is an unknown one (404); the body's problem is
// a 400 that names the fields at fault where it can.
func readInput(c *gin.Context, b body) (pathIDs, *problem.Problem) {
	ids, ok := readPath(c.Params)
	if !ok {
		p := problem.New(http.StatusNotFound, details[domain.ErrNotFound])
		return pathIDs{}, &p
	}
	if b == nil {
		return ids, nil
	}
	if p, ok := decode(c, b); !ok {
		return pathIDs{}, &p
	}
	if errs := b.check(); len(errs) > 0 {
		p := problem.Invalid(errs...)
		return pathIDs{}, &p
	}
	return ids, nil
}

// readPath checks the path ids: rooms and messages must be ids the writer could have made, accounts ids a
// token could carry (auth.CheckAccountID). It reports false for any other id, and for a path id it does not
// know, so that a new route cannot pass an unchecked id on to the store.
func readPath(params gin.Params) (pathIDs, bool) {
	var ids pathIDs
	for _, p := range params {
		var ok bool
		switch p.Key {
		case "room":
			ids.room, ok = domain.RoomID(p.Value), roomIDPattern.MatchString(p.Value)
		case "message":
			ids.message, ok = domain.MessageID(p.Value), messageIDPattern.MatchString(p.Value)
		case "account":
			ids.account, ok = domain.AccountID(p.Value), auth.CheckAccountID(p.Value) == nil
		}
		if !ok {
			return pathIDs{}, false
		}
	}
	return ids, true
}

// decode reads the kept body into dst: exactly one JSON object of valid UTF-8, no unknown fields; the problem
// names the field at fault where it can.
func decode(c *gin.Context, dst any) (problem.Problem, bool) {
	body, _ := c.Get(ctxBody)
	raw, _ := body.([]byte)
	if len(bytes.TrimSpace(raw)) == 0 {
		return problem.New(http.StatusBadRequest, "the body is empty; send a JSON object"), false
	}
	// encoding/json would quietly turn invalid bytes into U+FFFD, so a command would act on an id or a text
	// other than the one sent.
	if !utf8.Valid(raw) {
		return problem.New(http.StatusBadRequest, "the body is not valid UTF-8"), false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeProblem(err), false
	}
	if dec.More() {
		return problem.New(http.StatusBadRequest, "the body holds more than one JSON value"), false
	}
	return problem.Problem{}, true
}

func decodeProblem(err error) problem.Problem {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return problem.Invalid(problem.FieldError{Field: typeErr.Field, Reason: "must be a " + typeErr.Type.String()})
	case errors.As(err, &typeErr):
		return problem.New(http.StatusBadRequest, "the body must be a JSON object")
	case errors.As(err, &syntaxErr):
		return problem.New(http.StatusBadRequest, fmt.Sprintf("the body is not valid JSON (at byte %d)", syntaxErr.Offset))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return problem.Invalid(problem.FieldError{Field: field, Reason: "unknown field"})
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem.New(http.StatusBadRequest, "the body is truncated JSON")
	}
	return problem.New(http.StatusBadRequest, "the body is not a valid JSON object")
}

// required lists field as missing when v is nil.
func required(field string, v *string) []problem.FieldError {
	if v == nil {
		return []problem.FieldError{{Field: field, Reason: "required"}}
	}
	return nil
}

// fieldError reports field as refused by err, with the reason err gives for the client when it has one.
func fieldError(field string, err error) problem.FieldError {
	var idErr *auth.AccountIDError
	var ve *domain.ValidationError
	switch {
	case errors.As(err, &idErr):
		return problem.FieldError{Field: field, Reason: idErr.Reason}
	case errors.As(err, &ve):
		return problem.FieldError{Field: field, Reason: ve.Reason}
	}
	return problem.FieldError{Field: field, Reason: "is invalid"}
}

// ifMatch parses If-Match: `"<version>"` (an ETag as the responses send it) or a bare number; absent → nil.
func ifMatch(c *gin.Context) (*int64, bool) {
	h := strings.TrimSpace(c.GetHeader("If-Match"))
	if h == "" {
		return nil, true
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || v < 0 {
		return nil, false
	}
	return &v, true
}

// requestHash identifies a command request for idempotency: method, route and body.
func requestHash(c *gin.Context) string {
	body, _ := c.Get(ctxBody)
	raw, _ := body.([]byte)
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", c.Request.Method, c.Request.URL.Path)
	h.Write(raw)
	return hex.EncodeToString(h.Sum(nil))
}
