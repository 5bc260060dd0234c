package views

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/readmodel"
	"github.com/cqrses-aws/pipeline/schemas"
)

// Dump reads the target of name's version back into a readmodel.Model, for tests that compare what the
// projection stored with the reference fold; message room names come from the rooms table. It fails when a
// table cannot be read.
func Dump(ctx context.Context, pool *pgxpool.Pool, name string, version int) (*readmodel.Model, error) {
	s := pgx.Identifier{projection.TargetName(name, version)}.Sanitize()
	m := readmodel.New()
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("dump %s: %w", s, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	for _, read := range []func(context.Context, pgx.Tx, string, *readmodel.Model) error{
		dumpAccounts, dumpRooms, dumpMembers, dumpMessages,
	} {
		if err := read(ctx, tx, s, m); err != nil {
			return nil, fmt.Errorf("dump %s: %w", s, err)
		}
	}
	return m, nil
}

func dumpAccounts(ctx context.Context, tx pgx.Tx, s string, m *readmodel.Model) error {
	rows, _ := tx.Query(ctx, "SELECT id, name, version FROM "+s+".accounts")
	var a readmodel.Account
	_, err := pgx.ForEachRow(rows, []any{&a.ID, &a.Name, &a.Version}, func() error {
		m.Accounts[a.ID] = a
		return nil
	})
	return err
}

func dumpRooms(ctx context.Context, tx pgx.Tx, s string, m *readmodel.Model) error {
	rows, _ := tx.Query(ctx, "SELECT id, name, version, last_message_at, member_count FROM "+s+".rooms")
	var (
		r     readmodel.Room
		last  *time.Time
		count int
	)
	counts := map[string]int{}
	_, err := pgx.ForEachRow(rows, []any{&r.ID, &r.Name, &r.Version, &last, &count}, func() error {
		r.LastMessageAt = utc(last)
		r.Members = map[string]readmodel.Member{}
		m.Rooms[r.ID] = r
		counts[r.ID] = count
		return nil
	})
	if err != nil {
		return err
	}
	return checkCounts(ctx, tx, s, counts)
}

// checkCounts fails when a stored member_count is not the number of the room's members, since readmodel.Room has
// no count to compare.
func checkCounts(ctx context.Context, tx pgx.Tx, s string, counts map[string]int) error {
	rows, _ := tx.Query(ctx, "SELECT room_id, count(*) FROM "+s+".members GROUP BY room_id")
	var (
		id string
		n  int
	)
	actual := map[string]int{}
	if _, err := pgx.ForEachRow(rows, []any{&id, &n}, func() error { actual[id] = n; return nil }); err != nil {
		return err
	}
	for id, stored := range counts {
		if actual[id] != stored {
			return fmt.Errorf("room %s: member_count %d, but %d members", id, stored, actual[id])
		}
	}
	return nil
}

func dumpMembers(ctx context.Context, tx pgx.Tx, s string, m *readmodel.Model) error {
	rows, _ := tx.Query(ctx, "SELECT room_id, account_id, name, role FROM "+s+".members")
	var (
		roomID string
		mem    readmodel.Member
		role   string
	)
	_, err := pgx.ForEachRow(rows, []any{&roomID, &mem.AccountID, &mem.Name, &role}, func() error {
		room, ok := m.Rooms[roomID]
		if !ok {
			return fmt.Errorf("member %s of missing room %s", mem.AccountID, roomID)
		}
		mem.Role = schemas.Role(role)
		room.Members[mem.AccountID] = mem
		return nil
	})
	return err
}

func dumpMessages(ctx context.Context, tx pgx.Tx, s string, m *readmodel.Model) error {
	rows, _ := tx.Query(ctx, `SELECT m.id, m.room_id, coalesce(r.name, ''), m.sender_id, m.sender_name, m.text,
		m.posted_at, m.edited_at FROM `+s+`.messages AS m LEFT JOIN `+s+`.rooms AS r ON r.id = m.room_id`)
	var (
		msg    readmodel.Message
		edited *time.Time
	)
	_, err := pgx.ForEachRow(rows, []any{&msg.ID, &msg.RoomID, &msg.RoomName, &msg.SenderID, &msg.SenderName,
		&msg.Text, &msg.PostedAt, &edited}, func() error {
		msg.PostedAt = msg.PostedAt.UTC()
		msg.EditedAt = utc(edited)
		m.Messages[msg.ID] = msg
		return nil
	})
	return err
}

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
