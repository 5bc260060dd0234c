package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// referenceMessagesSQL is the query of queryapi/adapters/views.go's messages read, the same text with the stable
// schema spliced in: the reference must make Postgres do exactly the subject's work. Keep it in step with
// NewViewsPostgresReader.
func referenceMessagesSQL(schema string) string {
	s := pgx.Identifier{schema}.Sanitize() + "."
	return `SELECT x.id, x.sender_id, x.sender_name, x.text, x.posted_at, x.edited_at
			FROM ` + s + `members me LEFT JOIN LATERAL (
				SELECT m.id, m.sender_id, m.sender_name, m.text, m.posted_at, m.edited_at
				FROM ` + s + `messages m
				WHERE m.room_id = me.room_id AND (m.posted_at, m.id) < ($3, $4)
				ORDER BY m.posted_at DESC, m.id DESC LIMIT $5
			) x ON true
			WHERE me.room_id = $1 AND me.account_id = $2`
}

// messagesReference is the query_messages benchmark's reference, written apart from the query API: a plain
// net/http handler of GET /v1/rooms/{room}/messages that does what the answer needs and nothing else. It
// verifies the HS256 bearer token (the caller is part of the query), runs the same SQL for limit+1 rows on a
// pgxpool of the same default size, signs a next cursor with HMAC-SHA256 when there is a next page, and encodes
// the contract's shape with encoding/json. No router, middleware, metrics, access log or rate limiter.
type messagesReference struct {
	pool      *pgxpool.Pool
	sql       string
	parser    *jwt.Parser
	secret    []byte
	cursorKey []byte
}

// refMessage and refPage are the contract's shape of a messages page.
type refMessage struct {
	ID     string `json:"id"`
	RoomID string `json:"room_id"`
	Sender struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"sender"`
	Text     string     `json:"text"`
	PostedAt time.Time  `json:"posted_at"`
	EditedAt *time.Time `json:"edited_at"`
}

type refPage struct {
	Items      []refMessage `json:"items"`
	NextCursor *string      `json:"next_cursor"`
}

// refInfinity is after every message: the first page's position.
var refInfinity = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// startMessagesReference serves the reference on 127.0.0.1 with its own pool on the stack's Postgres, reading the
// views of schema; it returns the base URL. Server and pool stop when the benchmark ends.
func startMessagesReference(b *testing.B, postgresURL, schema, secret string) string {
	b.Helper()
	pool, err := pgxpool.New(context.Background(), postgresURL)
	if err != nil {
		b.Fatalf("reference pool: %v", err)
	}
	b.Cleanup(pool.Close)
	h := &messagesReference{
		pool: pool, sql: referenceMessagesSQL(schema), secret: []byte(secret),
		parser:    jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired()),
		cursorKey: []byte("reference-cursor-key-0123456789"),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatalf("reference listen: %v", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// ServeHTTP answers GET /v1/rooms/{room}/messages?limit=N.
func (h *messagesReference) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	room, ok := strings.CutPrefix(r.URL.Path, "/v1/rooms/")
	if ok {
		room, ok = strings.CutSuffix(room, "/messages")
	}
	if !ok || r.Method != http.MethodGet || room == "" || strings.Contains(room, "/") {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	caller, err := h.caller(r.Header.Get("Authorization"))
	if err != nil {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	limit := 20
	if raw := r.URL.Query().Get("limit"); raw != "" {
		if limit, err = strconv.Atoi(raw); err != nil || limit < 1 || limit > 100 {
			http.Error(w, "bad limit", http.StatusBadRequest)
			return
		}
	}
	page, member, err := h.read(r.Context(), caller, room, limit)
	switch {
	case err != nil:
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	case !member:
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(page)
}

// caller returns the subject of a valid HS256 bearer token.
func (h *messagesReference) caller(header string) (string, error) {
	token, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		return "", errors.New("no bearer token")
	}
	var claims jwt.RegisteredClaims
	if _, err := h.parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return h.secret, nil }); err != nil {
		return "", err
	}
	if claims.Subject == "" {
		return "", errors.New("no subject")
	}
	return claims.Subject, nil
}

// read returns the newest limit messages of room and a cursor when more follow; member is false when caller is
// not a member of room.
func (h *messagesReference) read(ctx context.Context, caller, room string, limit int) (refPage, bool, error) {
	rows, err := h.pool.Query(ctx, h.sql, room, caller, refInfinity, "", limit+1)
	if err != nil {
		return refPage{}, false, err
	}
	defer rows.Close()
	page := refPage{Items: make([]refMessage, 0, limit+1)}
	member := false
	for rows.Next() {
		member = true
		var (
			id, sender, name, text *string
			posted, edited         *time.Time
		)
		if err := rows.Scan(&id, &sender, &name, &text, &posted, &edited); err != nil {
			return refPage{}, false, err
		}
		if id == nil {
			continue // a member of a room without messages
		}
		m := refMessage{ID: *id, RoomID: room, Text: *text, PostedAt: posted.UTC()}
		m.Sender.ID, m.Sender.Name = *sender, *name
		if edited != nil {
			e := edited.UTC()
			m.EditedAt = &e
		}
		page.Items = append(page.Items, m)
	}
	if err := rows.Err(); err != nil {
		return refPage{}, false, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		c, err := h.cursor(caller, room, last.PostedAt, last.ID)
		if err != nil {
			return refPage{}, false, err
		}
		page.NextCursor = &c
	}
	return page, member, nil
}

// cursor signs the position after (at, id) in caller's listing of room.
func (h *messagesReference) cursor(caller, room string, at time.Time, id string) (string, error) {
	pos, err := json.Marshal(struct {
		T  time.Time `json:"t"`
		ID string    `json:"id"`
	}{at, id})
	if err != nil {
		return "", fmt.Errorf("cursor: %w", err)
	}
	body := base64.RawURLEncoding.EncodeToString(pos)
	mac := hmac.New(sha256.New, h.cursorKey)
	mac.Write([]byte(caller + "|" + room + "|" + body))
	return body + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16]), nil
}
