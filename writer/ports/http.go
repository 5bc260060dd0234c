// Package ports is the writer's inbound HTTP side: Gin handlers that turn the HTTP contract's requests into
// commands, answer with the contract's bodies, and map every error through one table to a problem response.
package ports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"

	"github.com/cqrses-aws/pipeline/internal/consistency"
	"github.com/cqrses-aws/pipeline/internal/platform/auth"
	"github.com/cqrses-aws/pipeline/internal/platform/problem"
	"github.com/cqrses-aws/pipeline/writer/adapters"
	"github.com/cqrses-aws/pipeline/writer/app"
	"github.com/cqrses-aws/pipeline/writer/domain"
)

// IdempotencyLookup finds responses recorded under idempotency keys.
type IdempotencyLookup interface {
	// Lookup returns the response recorded under key and the hash of the request that recorded it; found is
	// false when there is none or it expired. It returns app.ErrUnavailable (wrapped) when the store is down.
	Lookup(ctx context.Context, key string) (response []byte, requestHash string, found bool, err error)
}

// HTTPServer serves the writer's command routes.
type HTTPServer struct {
	app  *app.App
	idem IdempotencyLookup
	log  *slog.Logger
}

// NewHTTPServer returns the command handlers over a and idem, logging failures to log.
func NewHTTPServer(a *app.App, idem IdempotencyLookup, log *slog.Logger) *HTTPServer {
	return &HTTPServer{app: a, idem: idem, log: log}
}

// Register mounts the command routes on r behind middleware, which must authenticate the caller (the handlers
// read its account id from auth.AccountID) and may rate-limit it; the request id is set before, the body read
// (limit, media type) after them.
func (s *HTTPServer) Register(router gin.IRouter, middleware ...gin.HandlerFunc) {
	r := router.Group("", requestID())
	r.Use(middleware...)
	r.Use(readBody())
	r.POST("/v1/accounts", s.registerAccount)
	r.POST("/v1/accounts/me/rename", s.renameAccount)
	r.POST("/v1/rooms", s.createRoom)
	r.POST("/v1/rooms/:room/rename", s.renameRoom)
	r.POST("/v1/rooms/:room/members", s.addMember)
	r.DELETE("/v1/rooms/:room/members/:account", s.removeMember)
	r.POST("/v1/rooms/:room/messages", s.postMessage)
	r.POST("/v1/rooms/:room/messages/:message/edit", s.editMessage)
	r.DELETE("/v1/rooms/:room/messages/:message", s.deleteMessage)
	r.DELETE("/v1/rooms/:room", s.deleteRoom)
}

type nameBody struct {
	Name *string `json:"name"`
}

type textBody struct {
	Text *string `json:"text"`
}

type memberBody struct {
	AccountID *string `json:"account_id"`
	Role      *string `json:"role"`
}

// commandResponse is the body of every successful command.
type commandResponse struct {
	ID               string `json:"id"`
	Version          int64  `json:"version"`
	ConsistencyToken string `json:"consistency_token"`
	MessageID        string `json:"message_id,omitempty"`
}

// storedResponse is what an idempotency record remembers: the first answer, replayed as it was.
type storedResponse struct {
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
}

func responseOf(res app.Result) commandResponse {
	return commandResponse{
		ID: res.AggregateID, Version: res.Version, MessageID: string(res.MessageID),
		ConsistencyToken: consistency.Token{AggregateID: res.AggregateID, Seq: res.Version}.String(),
	}
}

func (s *HTTPServer) registerAccount(c *gin.Context) {
	var b nameBody
	if !s.bind(c, &b) || !present(c, "name", b.Name) {
		return
	}
	s.run(c, http.StatusCreated, func(ctx context.Context, o app.Options) (app.Result, error) {
		return s.app.RegisterAccount(ctx, o, *b.Name)
	})
}

func (s *HTTPServer) renameAccount(c *gin.Context) {
	var b nameBody
	if !s.bind(c, &b) || !present(c, "name", b.Name) {
		return
	}
	s.run(c, http.StatusOK, func(ctx context.Context, o app.Options) (app.Result, error) {
		return s.app.RenameAccount(ctx, o, *b.Name)
	})
}

func (s *HTTPServer) createRoom(c *gin.Context) {
	var b nameBody
	if !s.bind(c, &b) || !present(c, "name", b.Name) {
		return
	}
	s.run(c, http.StatusCreated, func(ctx context.Context, o app.Options) (app.Result, error) {
		return s.app.CreateRoom(ctx, o, *b.Name)
	})
}

func (s *HTTPServer) renameRoom(c *gin.Context) {
	room, ok := roomParam(c)
	var b nameBody
	if !ok || !s.bind(c, &b) || !present(c, "name", b.Name) {
		return
	}
	s.run(c, http.StatusOK, func(ctx context.Context, o app.Options) (app.Result, error) {
		return s.app.RenameRoom(ctx, o, room, *b.Name)
	})
}

func (s *HTTPServer) addMember(c *gin.Context) {
	room, ok := roomParam(c)
	var b memberBody
	if !ok || !s.bind(c, &b) || !present(c, "account_id", b.AccountID) || !present(c, "role", b.Role) {
		return
	}
	role, err := domain.ParseRole(*b.Role)
	if err != nil {
		writeProblem(c, problem.Invalid(problem.FieldError{Field: "role", Reason: "must be member or admin"}))
		return
	}
	s.run(c, http.StatusOK, func(ctx context.Context, o app.Options) (app.Result, error) {
		return s.app.AddMember(ctx, o, room, domain.AccountID(*b.AccountID), role)
	})
}

func (s *HTTPServer) removeMember(c *gin.Context) {
	room, ok := roomParam(c)
	if !ok {
		return
	}
	account := domain.AccountID(c.Param("account"))
	s.run(c, http.StatusOK, func(ctx context.Context, o app.Options) (app.Result, error) {
		return s.app.RemoveMember(ctx, o, room, account)
	})
}

func (s *HTTPServer) postMessage(c *gin.Context) {
	room, ok := roomParam(c)
	var b textBody
	if !ok || !s.bind(c, &b) || !present(c, "text", b.Text) {
		return
	}
	s.run(c, http.StatusCreated, func(ctx context.Context, o app.Options) (app.Result, error) {
		return s.app.PostMessage(ctx, o, room, *b.Text)
	})
}

func (s *HTTPServer) editMessage(c *gin.Context) {
	room, ok := roomParam(c)
	msg, okMsg := messageParam(c, ok)
	var b textBody
	if !ok || !okMsg || !s.bind(c, &b) || !present(c, "text", b.Text) {
		return
	}
	s.run(c, http.StatusOK, func(ctx context.Context, o app.Options) (app.Result, error) {
		return s.app.EditMessage(ctx, o, room, msg, *b.Text)
	})
}

func (s *HTTPServer) deleteMessage(c *gin.Context) {
	room, ok := roomParam(c)
	msg, okMsg := messageParam(c, ok)
	if !ok || !okMsg {
		return
	}
	s.run(c, http.StatusOK, func(ctx context.Context, o app.Options) (app.Result, error) {
		return s.app.DeleteMessage(ctx, o, room, msg)
	})
}

func (s *HTTPServer) deleteRoom(c *gin.Context) {
	room, ok := roomParam(c)
	if !ok {
		return
	}
	s.run(c, http.StatusOK, func(ctx context.Context, o app.Options) (app.Result, error) {
		return s.app.DeleteRoom(ctx, o, room)
	})
}

var (
	roomIDPattern    = regexp.MustCompile(`^room-[0-9A-HJKMNP-TV-Z]{26}$`)
	messageIDPattern = regexp.MustCompile(`^msg-[0-9A-HJKMNP-TV-Z]{26}$`)
)

// roomParam reads the room id from the path; one the writer could not have made is an unknown room (404).
func roomParam(c *gin.Context) (domain.RoomID, bool) {
	id := c.Param("room")
	if !roomIDPattern.MatchString(id) {
		writeProblem(c, problem.New(http.StatusNotFound, details[domain.ErrNotFound]))
		return "", false
	}
	return domain.RoomID(id), true
}

// messageParam reads the message id from the path the same way; it does nothing when an earlier check failed.
func messageParam(c *gin.Context, earlierOK bool) (domain.MessageID, bool) {
	if !earlierOK {
		return "", false
	}
	id := c.Param("message")
	if !messageIDPattern.MatchString(id) {
		writeProblem(c, problem.New(http.StatusNotFound, details[domain.ErrNotFound]))
		return "", false
	}
	return domain.MessageID(id), true
}

func (s *HTTPServer) bind(c *gin.Context, dst any) bool {
	if p, ok := decode(c, dst); !ok {
		writeProblem(c, p)
		return false
	}
	return true
}

func present(c *gin.Context, field string, v *string) bool {
	if v == nil {
		writeProblem(c, required(field))
		return false
	}
	return true
}

// run executes one command with the request's metadata, If-Match and Idempotency-Key, and answers it.
func (s *HTTPServer) run(c *gin.Context, status int, cmd func(context.Context, app.Options) (app.Result, error)) {
	ctx := c.Request.Context()
	actor := auth.AccountID(c)
	opts := app.Options{Meta: app.Meta{
		Actor: domain.AccountID(actor), CommandID: adapters.NewID(), CorrelationID: c.GetString(ctxRequestID),
	}}
	opts.Meta.TraceParent = traceParent(c)
	v, ok := ifMatch(c)
	if !ok {
		writeProblem(c, problem.Invalid(problem.FieldError{Field: "If-Match", Reason: `must be a version, e.g. "3"`}))
		return
	}
	opts.IfMatch = v

	key := c.GetHeader("Idempotency-Key")
	var scoped, hash string
	if key != "" {
		if !idempotencyKeyPattern.MatchString(key) {
			writeProblem(c, problem.Invalid(problem.FieldError{Field: "Idempotency-Key", Reason: "must be 1 to 255 visible ASCII characters"}))
			return
		}
		// Keys are the client's: scope them by account so two callers never share one.
		scoped, hash = fmt.Sprintf("%d:%s:%s", len(actor), actor, key), requestHash(c)
		if s.replay(c, scoped, hash) {
			return
		}
		opts.Idempotency = &app.Idempotency{Key: scoped, RequestHash: hash, Render: func(res app.Result) ([]byte, error) {
			body, err := json.Marshal(responseOf(res))
			if err != nil {
				return nil, err
			}
			return json.Marshal(storedResponse{Status: status, Body: body})
		}}
	}

	res, err := cmd(ctx, opts)
	if err != nil {
		if key != "" && errors.Is(err, app.ErrIdempotencyKeyExists) && s.replay(c, scoped, hash) {
			return
		}
		writeError(c, s.log, err)
		return
	}
	c.Header("ETag", fmt.Sprintf(`"%d"`, res.Version))
	c.JSON(status, responseOf(res))
}

// replay answers with the response recorded under key when there is one: as it was when the request matches,
// 422 when the key was used for another request. It reports whether it answered.
func (s *HTTPServer) replay(c *gin.Context, key, hash string) bool {
	resp, recordedHash, found, err := s.idem.Lookup(c.Request.Context(), key)
	if err != nil {
		writeError(c, s.log, err)
		return true
	}
	if !found {
		return false
	}
	if recordedHash != hash {
		writeError(c, s.log, errIdempotencyMismatch)
		return true
	}
	var stored storedResponse
	if err := json.Unmarshal(resp, &stored); err != nil {
		writeError(c, s.log, fmt.Errorf("decode recorded response: %w", err))
		return true
	}
	var body commandResponse
	if err := json.Unmarshal(stored.Body, &body); err == nil {
		c.Header("ETag", fmt.Sprintf(`"%d"`, body.Version))
	}
	c.Header("Idempotent-Replayed", "true")
	c.Data(stored.Status, "application/json; charset=utf-8", stored.Body)
	return true
}
