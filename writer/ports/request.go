package ports

import (
	"bytes"
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

	"github.com/gin-gonic/gin"

	"github.com/cqrses-aws/pipeline/internal/platform/problem"
	"github.com/cqrses-aws/pipeline/internal/platform/tracing"
	"github.com/cqrses-aws/pipeline/writer/adapters"
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

// decode reads the kept body into dst: exactly one JSON object, no unknown fields; the problem names the field
// at fault where it can.
func decode(c *gin.Context, dst any) (problem.Problem, bool) {
	body, _ := c.Get(ctxBody)
	raw, _ := body.([]byte)
	if len(bytes.TrimSpace(raw)) == 0 {
		return problem.New(http.StatusBadRequest, "the body is empty; send a JSON object"), false
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

// required reports a missing field as a validation problem.
func required(field string) problem.Problem {
	return problem.Invalid(problem.FieldError{Field: field, Reason: "required"})
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
