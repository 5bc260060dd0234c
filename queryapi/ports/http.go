// Package ports is the query API's HTTP edge: the Gin routes of the HTTP contract, their parameters checked and
// their errors answered as RFC 9457 problems, over the app's queries.
package ports

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/cqrses-aws/pipeline/internal/consistency"
	"github.com/cqrses-aws/pipeline/internal/platform/auth"
	"github.com/cqrses-aws/pipeline/queryapi/app"
	"github.com/cqrses-aws/pipeline/queryapi/cursor"
)

// StaleHeader is the header set to "true" on an answer that could not wait until the read model applied the
// write named by consistent_with.
const StaleHeader = "X-Read-Model-Stale"

// Queries are the application's queries the routes call.
type Queries interface {
	Rooms(ctx context.Context, o app.Options, after string, limit int) ([]app.RoomSummary, string, app.Fresh, error)
	Room(ctx context.Context, o app.Options, roomID string) (app.Room, app.Fresh, error)
	Messages(ctx context.Context, o app.Options, roomID string, after *app.MessageKey, limit int) (app.Page[app.Message], app.Fresh, error)
	Account(ctx context.Context, o app.Options, id string) (app.Account, app.Fresh, error)
	Search(ctx context.Context, o app.Options, text, room string, after *app.MessageKey, limit int) (app.Page[app.Hit], app.Fresh, error)
}

// HTTPServer serves the query routes.
type HTTPServer struct {
	q       Queries
	cursors *cursor.Codec
	tokens  *consistency.Key
	log     *slog.Logger
	openAPI []byte
}

// NewHTTPServer returns the routes over q, signing cursors with cursors, verifying consistency tokens with tokens
// (the writer's key) and serving openAPI (the document of both services) at /openapi.json.
func NewHTTPServer(q Queries, cursors *cursor.Codec, tokens *consistency.Key, openAPI []byte, log *slog.Logger) *HTTPServer {
	return &HTTPServer{q: q, cursors: cursors, tokens: tokens, openAPI: openAPI, log: log}
}

// Register adds the routes to router: /openapi.json without authentication, the /v1 queries behind middleware
// (authentication, then rate limiting).
func (s *HTTPServer) Register(router gin.IRouter, middleware ...gin.HandlerFunc) {
	router.GET("/openapi.json", func(c *gin.Context) { c.Data(http.StatusOK, "application/json", s.openAPI) })
	v1 := router.Group("/v1", middleware...)
	v1.Use(func(c *gin.Context) { c.Header("Cache-Control", "private, no-store") })
	v1.GET("/rooms", s.rooms)
	v1.GET("/rooms/:room", s.room)
	v1.GET("/rooms/:room/messages", s.messages)
	v1.GET("/search", s.search)
	v1.GET("/accounts/:account", s.account)
}

func (s *HTTPServer) rooms(c *gin.Context) {
	in := s.params(c)
	limit := in.limit()
	var after string
	in.cursor("rooms|"+in.caller, &after)
	if !in.ok() {
		return
	}
	rooms, next, fresh, err := s.q.Rooms(c.Request.Context(), in.opts, after, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := make([]roomSummaryJSON, len(rooms))
	for i, r := range rooms {
		items[i] = roomSummaryJSON{ID: r.ID, Name: r.Name, MemberCount: r.MemberCount, LastMessageAt: r.LastMessageAt,
			Version: r.Version}
	}
	var nextCursor *string
	if next != "" {
		nextCursor = s.encode(c, "rooms|"+in.caller, next)
		if nextCursor == nil {
			return
		}
	}
	s.answer(c, fresh, pageJSON[roomSummaryJSON]{Items: items, NextCursor: nextCursor})
}

func (s *HTTPServer) room(c *gin.Context) {
	id, found := pathID(c, "room")
	if !found {
		return
	}
	in := s.params(c)
	if !in.ok() {
		return
	}
	room, fresh, err := s.q.Room(c.Request.Context(), in.opts, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := roomJSON{ID: room.ID, Name: room.Name, Version: room.Version, Members: make([]memberJSON, len(room.Members))}
	for i, m := range room.Members {
		out.Members[i] = memberJSON{AccountID: m.AccountID, Name: m.Name, Role: m.Role}
	}
	s.answer(c, fresh, out)
}

func (s *HTTPServer) messages(c *gin.Context) {
	room, found := pathID(c, "room")
	if !found {
		return
	}
	in := s.params(c)
	scope := "messages|" + in.caller + "|" + room
	limit := in.limit()
	var after *app.MessageKey
	in.cursor(scope, &after)
	if !in.ok() {
		return
	}
	page, fresh, err := s.q.Messages(c.Request.Context(), in.opts, room, after, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := make([]messageJSON, len(page.Items))
	for i, m := range page.Items {
		items[i] = messageJSON{ID: m.ID, RoomID: m.RoomID, Sender: senderJSON{ID: m.SenderID, Name: m.SenderName},
			Text: m.Text, PostedAt: m.PostedAt, EditedAt: m.EditedAt}
	}
	out := pageJSON[messageJSON]{Items: items}
	if page.Next != nil {
		if out.NextCursor = s.encode(c, scope, page.Next); out.NextCursor == nil {
			return
		}
	}
	s.answer(c, fresh, out)
}

func (s *HTTPServer) search(c *gin.Context) {
	in := s.params(c)
	text := in.text("q")
	room := in.optionalID("room_id")
	scope := "search|" + in.caller + "|" + room + "|" + text
	limit := in.limit()
	var after *app.MessageKey
	in.cursor(scope, &after)
	if !in.ok() {
		return
	}
	page, fresh, err := s.q.Search(c.Request.Context(), in.opts, text, room, after, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	items := make([]hitJSON, len(page.Items))
	for i, h := range page.Items {
		items[i] = hitJSON{MessageID: h.MessageID, RoomID: h.RoomID, RoomName: h.RoomName,
			Sender: senderJSON{ID: h.SenderID, Name: h.SenderName}, Text: h.Text, Highlight: h.Highlight,
			PostedAt: h.PostedAt}
	}
	out := pageJSON[hitJSON]{Items: items}
	if page.Next != nil {
		if out.NextCursor = s.encode(c, scope, page.Next); out.NextCursor == nil {
			return
		}
	}
	s.answer(c, fresh, out)
}

func (s *HTTPServer) account(c *gin.Context) {
	id, found := pathID(c, "account")
	if !found {
		return
	}
	in := s.params(c)
	if !in.ok() {
		return
	}
	acct, fresh, err := s.q.Account(c.Request.Context(), in.opts, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.answer(c, fresh, accountJSON{ID: acct.ID, Name: acct.Name})
}

// answer writes v as the 200 answer, marked stale when the wait for consistent_with ran out.
func (s *HTTPServer) answer(c *gin.Context, fresh app.Fresh, v any) {
	if !fresh {
		c.Header(StaleHeader, "true")
	}
	c.JSON(http.StatusOK, v)
}

// encode returns the cursor of position in scope, or nil after answering a 500 when it cannot be made.
func (s *HTTPServer) encode(c *gin.Context, scope string, position any) *string {
	cur, err := s.cursors.Encode(scope, position)
	if err != nil {
		s.fail(c, err)
		return nil
	}
	return &cur
}

type pageJSON[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

type roomSummaryJSON struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	MemberCount   int        `json:"member_count"`
	LastMessageAt *time.Time `json:"last_message_at"`
	Version       int64      `json:"version"`
}

type memberJSON struct {
	AccountID string `json:"account_id"`
	Name      string `json:"name"`
	Role      string `json:"role"`
}

type roomJSON struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	Version int64        `json:"version"`
	Members []memberJSON `json:"members"`
}

type senderJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type messageJSON struct {
	ID       string     `json:"id"`
	RoomID   string     `json:"room_id"`
	Sender   senderJSON `json:"sender"`
	Text     string     `json:"text"`
	PostedAt time.Time  `json:"posted_at"`
	EditedAt *time.Time `json:"edited_at"`
}

type hitJSON struct {
	MessageID string     `json:"message_id"`
	RoomID    string     `json:"room_id"`
	RoomName  string     `json:"room_name"`
	Sender    senderJSON `json:"sender"`
	Text      string     `json:"text"`
	Highlight string     `json:"highlight"`
	PostedAt  time.Time  `json:"posted_at"`
}

type accountJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// callerOf returns the authenticated account.
func callerOf(c *gin.Context) string { return auth.AccountID(c) }
