// Package ports is the writer's inbound HTTP side: Gin handlers that turn the HTTP contract's requests into
// commands, answer with the contract's bodies, and map every error through one table to a problem response.
package ports

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

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
	app    *app.App
	idem   IdempotencyLookup
	log    *slog.Logger
	tokens *consistency.Key
}

// Option tunes an HTTPServer.
type Option func(*HTTPServer)

// WithTokenKey signs the consistency tokens of the command responses with key, which the query APIs verify
// with; without it they are signed with a random key of this server, which no query API honours.
func WithTokenKey(key *consistency.Key) Option { return func(s *HTTPServer) { s.tokens = key } }

// NewHTTPServer returns the command handlers over a and idem, logging failures to log.
func NewHTTPServer(a *app.App, idem IdempotencyLookup, log *slog.Logger, opts ...Option) *HTTPServer {
	s := &HTTPServer{app: a, idem: idem, log: log}
	for _, o := range opts {
		o(s)
	}
	if s.tokens == nil {
		secret := make([]byte, consistency.MinSecretLen)
		_, _ = rand.Read(secret) // crypto/rand.Read never fails
		s.tokens, _ = consistency.NewKey(secret)
	}
	return s
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

// nameBody is the body of the commands that name an account or a room.
type nameBody struct {
	Name *string `json:"name"`
}

func (b *nameBody) check() []problem.FieldError { return required("name", b.Name) }

// textBody is the body of the commands that write a message.
type textBody struct {
	Text *string `json:"text"`
}

func (b *textBody) check() []problem.FieldError { return required("text", b.Text) }

// memberBody is AddMember's body; check fills in account and role from the fields.
type memberBody struct {
	AccountID *string `json:"account_id"`
	Role      *string `json:"role"`

	account domain.AccountID
	role    domain.Role
}

func (b *memberBody) check() []problem.FieldError {
	errs := append(required("account_id", b.AccountID), required("role", b.Role)...)
	if b.AccountID != nil {
		b.account = domain.AccountID(*b.AccountID)
		if err := auth.CheckAccountID(*b.AccountID); err != nil {
			errs = append(errs, fieldError("account_id", err))
		}
	}
	if b.Role != nil {
		var err error
		if b.role, err = domain.ParseRole(*b.Role); err != nil {
			errs = append(errs, fieldError("role", err))
		}
	}
	return errs
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

// responseOf is the answer to caller's command: its consistency token is signed for caller alone, so that it
// tells no one else anything about the aggregate.
func (s *HTTPServer) responseOf(caller string, res app.Result) commandResponse {
	return commandResponse{
		ID: res.AggregateID, Version: res.Version, MessageID: string(res.MessageID),
		ConsistencyToken: s.tokens.Sign(caller, consistency.Token{AggregateID: res.AggregateID, Seq: res.Version}),
	}
}

func (s *HTTPServer) registerAccount(c *gin.Context) {
	var b nameBody
	s.handle(c, http.StatusCreated, &b, func(ctx context.Context, o app.Options, _ pathIDs) (app.Result, error) {
		return s.app.RegisterAccount(ctx, o, *b.Name)
	})
}

func (s *HTTPServer) renameAccount(c *gin.Context) {
	var b nameBody
	s.handle(c, http.StatusOK, &b, func(ctx context.Context, o app.Options, _ pathIDs) (app.Result, error) {
		return s.app.RenameAccount(ctx, o, *b.Name)
	})
}

func (s *HTTPServer) createRoom(c *gin.Context) {
	var b nameBody
	s.handle(c, http.StatusCreated, &b, func(ctx context.Context, o app.Options, _ pathIDs) (app.Result, error) {
		return s.app.CreateRoom(ctx, o, *b.Name)
	})
}

func (s *HTTPServer) renameRoom(c *gin.Context) {
	var b nameBody
	s.handle(c, http.StatusOK, &b, func(ctx context.Context, o app.Options, id pathIDs) (app.Result, error) {
		return s.app.RenameRoom(ctx, o, id.room, *b.Name)
	})
}

func (s *HTTPServer) addMember(c *gin.Context) {
	var b memberBody
	s.handle(c, http.StatusOK, &b, func(ctx context.Context, o app.Options, id pathIDs) (app.Result, error) {
		return s.app.AddMember(ctx, o, id.room, b.account, b.role)
	})
}

func (s *HTTPServer) removeMember(c *gin.Context) {
	s.handle(c, http.StatusOK, nil, func(ctx context.Context, o app.Options, id pathIDs) (app.Result, error) {
		return s.app.RemoveMember(ctx, o, id.room, id.account)
	})
}

func (s *HTTPServer) postMessage(c *gin.Context) {
	var b textBody
	s.handle(c, http.StatusCreated, &b, func(ctx context.Context, o app.Options, id pathIDs) (app.Result, error) {
		return s.app.PostMessage(ctx, o, id.room, *b.Text)
	})
}

func (s *HTTPServer) editMessage(c *gin.Context) {
	var b textBody
	s.handle(c, http.StatusOK, &b, func(ctx context.Context, o app.Options, id pathIDs) (app.Result, error) {
		return s.app.EditMessage(ctx, o, id.room, id.message, *b.Text)
	})
}

func (s *HTTPServer) deleteMessage(c *gin.Context) {
	s.handle(c, http.StatusOK, nil, func(ctx context.Context, o app.Options, id pathIDs) (app.Result, error) {
		return s.app.DeleteMessage(ctx, o, id.room, id.message)
	})
}

func (s *HTTPServer) deleteRoom(c *gin.Context) {
	s.handle(c, http.StatusOK, nil, func(ctx context.Context, o app.Options, id pathIDs) (app.Result, error) {
		return s.app.DeleteRoom(ctx, o, id.room)
	})
}

// handle answers a command request, and is the one place that answers a problem found at the edge: it checks
// the path ids, decodes b (nil for commands without a body) and checks it, then runs cmd with the path ids and
// answers status. b is filled in before cmd runs.
func (s *HTTPServer) handle(c *gin.Context, status int, b body, cmd func(context.Context, app.Options, pathIDs) (app.Result, error)) {
	ids, p := readInput(c, b)
	if p != nil {
		writeProblem(c, *p)
		return
	}
	s.run(c, status, func(ctx context.Context, o app.Options) (app.Result, error) {
		return cmd(ctx, o, ids)
	})
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
			body, err := json.Marshal(s.responseOf(actor, res))
			if err != nil {
				return nil, err
			}
			return json.Marshal(storedResponse{Status: status, Body: body})
		}}
	}

	res, err := cmd(ctx, opts)
	if err != nil {
		if key != "" && replayable(err) && s.replay(c, scoped, hash) {
			return
		}
		writeError(c, s.log, err)
		return
	}
	c.Header("ETag", fmt.Sprintf(`"%d"`, res.Version))
	c.JSON(status, s.responseOf(actor, res))
}
