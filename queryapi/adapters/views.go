// Package adapters reads the query side's read models: the Postgres views (ViewsPostgresReader) and the search
// index (MessagesSearchReader), and tells when each has applied a write (the readers of progress.Watcher).
package adapters

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrses-aws/pipeline/queryapi/app"
)

var _ app.Views = (*ViewsPostgresReader)(nil)

// ViewsPostgresReader reads the stable schema of the views projector (the views of its live version), so that a
// rebuild's switch is seen by the next query. Each query is one statement: the membership check and the read
// see the same snapshot.
type ViewsPostgresReader struct {
	pool *pgxpool.Pool
	sql  viewsSQL
}

type viewsSQL struct {
	rooms, room, messages, account, memberRooms, applied, vouch string
}

// NewViewsPostgresReader reads the views in the schema named schema (the projector's PROJECTORS_VIEWS_NAME).
func NewViewsPostgresReader(pool *pgxpool.Pool, schema string) *ViewsPostgresReader {
	s := pgx.Identifier{schema}.Sanitize() + "."
	return &ViewsPostgresReader{pool: pool, sql: viewsSQL{
		rooms: `SELECT r.id, r.name, r.member_count, r.last_message_at, r.version
			FROM ` + s + `members m JOIN ` + s + `rooms r ON r.id = m.room_id
			WHERE m.account_id = $1 AND m.room_id > $2 ORDER BY m.room_id LIMIT $3`,
		// The caller's own member row gates the others: no row at all means not visible.
		room: `SELECT r.id, r.name, r.version, o.account_id, o.name, o.role
			FROM ` + s + `members me
			JOIN ` + s + `rooms r ON r.id = me.room_id
			JOIN ` + s + `members o ON o.room_id = me.room_id
			WHERE me.room_id = $1 AND me.account_id = $2 ORDER BY o.account_id`,
		// A member without messages gets one row of NULLs; a non-member no row.
		messages: `SELECT x.id, x.sender_id, x.sender_name, x.text, x.posted_at, x.edited_at
			FROM ` + s + `members me LEFT JOIN LATERAL (
				SELECT m.id, m.sender_id, m.sender_name, m.text, m.posted_at, m.edited_at
				FROM ` + s + `messages m
				WHERE m.room_id = me.room_id AND (m.posted_at, m.id) < ($3, $4)
				ORDER BY m.posted_at DESC, m.id DESC LIMIT $5
			) x ON true
			WHERE me.room_id = $1 AND me.account_id = $2`,
		account:     `SELECT id, name FROM ` + s + `accounts WHERE id = $1`,
		memberRooms: `SELECT room_id FROM ` + s + `members WHERE account_id = $1`,
		applied:     `SELECT aid, seq FROM ` + s + `aggregates WHERE aid = ANY($1)`,
		vouch: `SELECT m.id, m.room_id, r.name, m.text FROM ` + s + `messages m JOIN ` + s + `rooms r ON r.id = m.room_id
			WHERE m.id = ANY($1)`,
	}}
}

// Rooms implements app.Views.
func (r *ViewsPostgresReader) Rooms(ctx context.Context, caller, after string, limit int) ([]app.RoomSummary, error) {
	rows, _ := r.pool.Query(ctx, r.sql.rooms, caller, after, limit)
	var (
		x     app.RoomSummary
		last  *time.Time
		rooms = make([]app.RoomSummary, 0, limit)
	)
	_, err := pgx.ForEachRow(rows, []any{&x.ID, &x.Name, &x.MemberCount, &last, &x.Version}, func() error {
		x.LastMessageAt = utc(last)
		rooms = append(rooms, x)
		return nil
	})
	if err != nil {
		return nil, readError(err)
	}
	return rooms, nil
}

// Room implements app.Views.
func (r *ViewsPostgresReader) Room(ctx context.Context, caller, roomID string) (app.Room, error) {
	rows, _ := r.pool.Query(ctx, r.sql.room, roomID, caller)
	var (
		room app.Room
		m    app.Member
	)
	_, err := pgx.ForEachRow(rows, []any{&room.ID, &room.Name, &room.Version, &m.AccountID, &m.Name, &m.Role}, func() error {
		room.Members = append(room.Members, m)
		return nil
	})
	if err != nil {
		return app.Room{}, readError(err)
	}
	if len(room.Members) == 0 {
		return app.Room{}, app.ErrNotFound
	}
	return room, nil
}

// Messages implements app.Views.
func (r *ViewsPostgresReader) Messages(ctx context.Context, caller, roomID string, after *app.MessageKey, limit int) ([]app.Message, error) {
	// No position: after the end of time, which every message is before.
	at, id := pgtypeInfinity, ""
	if after != nil {
		at, id = after.PostedAt, after.ID
	}
	rows, _ := r.pool.Query(ctx, r.sql.messages, roomID, caller, at, id, limit)
	var (
		member           bool
		msgID, sender    *string
		senderName, text *string
		posted, edited   *time.Time
		msgs             = make([]app.Message, 0, limit)
	)
	_, err := pgx.ForEachRow(rows, []any{&msgID, &sender, &senderName, &text, &posted, &edited}, func() error {
		member = true
		if msgID != nil {
			msgs = append(msgs, app.Message{ID: *msgID, RoomID: roomID, SenderID: *sender, SenderName: *senderName,
				Text: *text, PostedAt: posted.UTC(), EditedAt: utc(edited)})
		}
		return nil
	})
	if err != nil {
		return nil, readError(err)
	}
	if !member {
		return nil, app.ErrNotFound
	}
	return msgs, nil
}

// Account implements app.Views.
func (r *ViewsPostgresReader) Account(ctx context.Context, id string) (app.Account, error) {
	var a app.Account
	if err := r.pool.QueryRow(ctx, r.sql.account, id).Scan(&a.ID, &a.Name); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return app.Account{}, app.ErrNotFound
		}
		return app.Account{}, readError(err)
	}
	return a, nil
}

// MemberRooms implements app.Views.
func (r *ViewsPostgresReader) MemberRooms(ctx context.Context, caller string) ([]string, error) {
	rows, _ := r.pool.Query(ctx, r.sql.memberRooms, caller)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, readError(err)
	}
	return ids, nil
}

// AppliedSeqs returns the seq up to which the views applied each of ids (absent: never); it is the reader of the
// views' progress.Watcher.
func (r *ViewsPostgresReader) AppliedSeqs(ctx context.Context, ids []string) (map[string]int64, error) {
	rows, _ := r.pool.Query(ctx, r.sql.applied, ids)
	seqs := make(map[string]int64, len(ids))
	var (
		id  string
		seq int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &seq}, func() error { seqs[id] = seq; return nil }); err != nil {
		return nil, readError(err)
	}
	return seqs, nil
}

// Vouch implements app.Views.
func (r *ViewsPostgresReader) Vouch(ctx context.Context, messageIDs []string) (map[string]app.Vouched, error) {
	rows, _ := r.pool.Query(ctx, r.sql.vouch, messageIDs)
	out := make(map[string]app.Vouched, len(messageIDs))
	var (
		id string
		v  app.Vouched
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &v.RoomID, &v.RoomName, &v.Text}, func() error { out[id] = v; return nil }); err != nil {
		return nil, readError(err)
	}
	return out, nil
}

// pgtypeInfinity stands for "after every message" in a keyset comparison: later than any posted_at stored.
var pgtypeInfinity = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// readError wraps a failed read: ErrUnavailable when the database could not be reached or is missing the views
// (none is live yet), the error itself otherwise.
func readError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code != "42P01" && pgErr.Code != "3F000" {
		return fmt.Errorf("read views: %w", err)
	}
	return fmt.Errorf("%w: %w", app.ErrUnavailable, err)
}
