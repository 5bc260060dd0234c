package views

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrses-aws/pipeline/projectors/projection"
)

var _ projection.Target = (*Target)(nil)

// Target is one version's schema: Begin starts the transaction of a batch. It is safe for concurrent use.
type Target struct {
	pool   *pgxpool.Pool
	schema string
	// channel is where each committed batch is announced (see ProgressChannel).
	channel string
	sql     statements
}

func newTarget(pool *pgxpool.Pool, schema, channel string) *Target {
	return &Target{pool: pool, schema: schema, channel: channel, sql: newStatements(pgx.Identifier{schema}.Sanitize())}
}

// ProgressChannel returns the Postgres notification channel on which the projection named name announces every
// committed batch and every switch, with the target schema as payload: readers waiting until a write is applied
// (read-your-writes) listen on it instead of polling. Postgres delivers a notification only when its transaction
// commits, so a reader woken by it sees the batch.
func ProgressChannel(name string) string { return name + "_progress" }

// Schema returns the name of the target's schema, "<name>_v<version>".
func (t *Target) Schema() string { return t.schema }

// Offsets returns the next offsets stored with the model; the map is empty when nothing was saved yet.
func (t *Target) Offsets(ctx context.Context) (projection.Offsets, error) {
	rows, err := t.pool.Query(ctx, t.sql.selectOffsets)
	if err != nil {
		return nil, fmt.Errorf("read offsets of %s: %w", t.schema, err)
	}
	defer rows.Close()
	offsets := projection.Offsets{}
	for rows.Next() {
		var (
			topic     string
			partition int32
			next      int64
		)
		if err := rows.Scan(&topic, &partition, &next); err != nil {
			return nil, fmt.Errorf("read offsets of %s: %w", t.schema, err)
		}
		offsets.Set(topic, partition, next)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read offsets of %s: %w", t.schema, err)
	}
	return offsets, nil
}

// Begin starts the transaction of one batch.
func (t *Target) Begin(ctx context.Context) (projection.Tx, error) {
	tx, err := t.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin on %s: %w", t.schema, err)
	}
	// Every statement of a batch looks up a few thousand keys in tables that may hold millions of rows. The
	// planner, costing each index probe as a disk read and working from statistics that lag behind a replay
	// (the messages table grows by thousands of rows a batch), would often scan whole tables instead, which
	// makes a replay quadratic. Index scans only, for this transaction.
	if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
		_ = tx.Rollback(ctx)
		return nil, fmt.Errorf("begin on %s: %w", t.schema, err)
	}
	return &Tx{tx: tx, target: t, seqs: map[string]int64{}}, nil
}

// Close releases nothing: the pool belongs to the caller.
func (t *Target) Close() error { return nil }

// statements are the target's SQL, with its schema written in.
type statements struct {
	selectOffsets, selectStates, insertStates, updateStates, upsertStates, saveOffsets string

	shareNameLocks, updateNameLocks, upsertAccounts, selectNames, selectMembers string

	renameMembers, renameMessages, deleteRoomMessages, deleteRoomMembers, deleteRooms, insertRooms, updateRooms string

	deleteMembers, upsertMembers, deleteMessages, editMessages, insertMessages string
}

func newStatements(schema string) statements {
	s := func(q string) string { return strings.ReplaceAll(q, "{s}", schema) }
	return statements{
		selectOffsets: s(`SELECT topic, partition, next FROM {s}.offsets`),
		selectStates:  s(`SELECT aid, seq, parked FROM {s}.aggregates WHERE aid = ANY($1) ORDER BY aid FOR UPDATE`),
		// A row for an aggregate never seen, so that it is locked too: a second transaction inserting the same
		// id waits for the first to end (and then gets no row back).
		insertStates: s(`INSERT INTO {s}.aggregates (aid, seq, parked)
			SELECT aid, 0, false FROM unnest($1::text[]) AS u(aid) ORDER BY aid
			ON CONFLICT (aid) DO NOTHING RETURNING aid`),
		updateStates: s(`UPDATE {s}.aggregates AS a SET seq = u.seq, parked = u.parked
			FROM unnest($1::text[], $2::bigint[], $3::bool[]) AS u(aid, seq, parked) WHERE a.aid = u.aid`),
		upsertStates: s(`INSERT INTO {s}.aggregates (aid, seq, parked)
			SELECT * FROM unnest($1::text[], $2::bigint[], $3::bool[]) ORDER BY 1
			ON CONFLICT (aid) DO UPDATE SET seq = excluded.seq, parked = excluded.parked`),
		saveOffsets: s(`INSERT INTO {s}.offsets (topic, partition, next)
			SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[]) ORDER BY 1, 2
			ON CONFLICT (topic, partition) DO UPDATE SET next = excluded.next`),

		shareNameLocks: s(`SELECT count(*) FROM
			(SELECT 1 FROM {s}.name_locks WHERE bucket = ANY($1) ORDER BY bucket FOR SHARE) AS locked`),
		updateNameLocks: s(`SELECT count(*) FROM
			(SELECT 1 FROM {s}.name_locks WHERE bucket = ANY($1) ORDER BY bucket FOR UPDATE) AS locked`),
		upsertAccounts: s(`INSERT INTO {s}.accounts (id, name, version)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ORDER BY 1
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, version = excluded.version
			WHERE accounts.version < excluded.version`),
		selectNames: s(`SELECT id, name FROM {s}.accounts WHERE id = ANY($1)`),
		selectMembers: s(`SELECT m.room_id, m.account_id FROM {s}.members AS m
			JOIN unnest($1::text[], $2::text[]) AS u(room_id, account_id)
			ON m.room_id = u.room_id AND m.account_id = u.account_id`),

		renameMembers: s(`UPDATE {s}.members AS m SET name = u.name
			FROM unnest($1::text[], $2::text[]) AS u(id, name) WHERE m.account_id = u.id AND m.name <> u.name`),
		renameMessages: s(`UPDATE {s}.messages AS m SET sender_name = u.name
			FROM unnest($1::text[], $2::text[]) AS u(id, name) WHERE m.sender_id = u.id AND m.sender_name <> u.name`),
		deleteRoomMessages: s(`DELETE FROM {s}.messages WHERE room_id = ANY($1)`),
		deleteRoomMembers:  s(`DELETE FROM {s}.members WHERE room_id = ANY($1)`),
		deleteRooms:        s(`DELETE FROM {s}.rooms WHERE id = ANY($1)`),
		// Created rooms start at version 0; updateRooms then writes their name, count and version, and returns
		// the rooms that exist (and had not seen the batch yet): the only ones whose member and message rows the
		// batch writes.
		insertRooms: s(`INSERT INTO {s}.rooms (id, name, member_count, last_message_at, version)
			SELECT id, name, 0, NULL, 0 FROM unnest($1::text[], $2::text[]) AS u(id, name) ORDER BY id
			ON CONFLICT (id) DO NOTHING`),
		updateRooms: s(`UPDATE {s}.rooms AS r SET
				name = coalesce(u.name, r.name),
				last_message_at = coalesce(u.last_message_at, r.last_message_at),
				version = u.version,
				member_count = r.member_count + u.members_delta
			FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[], $5::int[])
				AS u(id, name, last_message_at, version, members_delta)
			WHERE r.id = u.id AND r.version < u.version
			RETURNING r.id`),

		deleteMembers: s(`DELETE FROM {s}.members AS m USING unnest($1::text[], $2::text[]) AS u(room_id, account_id)
			WHERE m.room_id = u.room_id AND m.account_id = u.account_id`),
		upsertMembers: s(`INSERT INTO {s}.members (room_id, account_id, name, role)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) ORDER BY 1, 2
			ON CONFLICT (room_id, account_id) DO UPDATE SET name = excluded.name, role = excluded.role`),
		deleteMessages: s(`DELETE FROM {s}.messages AS m USING unnest($1::text[], $2::text[]) AS u(id, room_id)
			WHERE m.id = u.id AND m.room_id = u.room_id`),
		// The fallback of the COPY of new messages when one exists already (see Tx.copyMessages).
		insertMessages: s(`INSERT INTO {s}.messages (id, room_id, sender_id, sender_name, text, posted_at, edited_at)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
				$7::timestamptz[])
			ON CONFLICT (id) DO NOTHING`),
		editMessages: s(`UPDATE {s}.messages AS m SET text = u.text, edited_at = u.edited_at
			FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS u(id, room_id, text, edited_at)
			WHERE m.id = u.id AND m.room_id = u.room_id`),
	}
}

// messageColumns are the columns Apply copies new messages into, in order.
var messageColumns = []string{"id", "room_id", "sender_id", "sender_name", "text", "posted_at", "edited_at"}
