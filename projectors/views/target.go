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
	sql    statements
}

func newTarget(pool *pgxpool.Pool, schema string) *Target {
	return &Target{pool: pool, schema: schema, sql: newStatements(pgx.Identifier{schema}.Sanitize())}
}

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
	return &Tx{tx: tx, target: t, seqs: map[string]int64{}}, nil
}

// Close releases nothing: the pool belongs to the caller.
func (t *Target) Close() error { return nil }

// statements are the target's SQL, with its schema written in.
type statements struct {
	selectOffsets, lockNewAggregates, selectStates, saveStates, saveOffsets string

	upsertAccounts, upsertNames, insertUnknownNames, shareNames, renameMembers, renameMessages string

	deleteRoomMessages, deleteRoomMembers, deleteRooms, insertRooms, updateRooms string

	deleteMembers, upsertMembers, deleteMessages, insertMessages, editMessages string
}

func newStatements(schema string) statements {
	s := func(q string) string { return strings.ReplaceAll(q, "{s}", schema) }
	return statements{
		selectOffsets: s(`SELECT topic, partition, next FROM {s}.offsets`),
		// A row per aggregate, even one never seen, so that FOR UPDATE has something to lock: a second
		// transaction inserting the same new id waits for the first to end.
		lockNewAggregates: s(`INSERT INTO {s}.aggregates (aid, seq, parked)
			SELECT aid, 0, false FROM unnest($1::text[]) AS u(aid) ORDER BY aid ON CONFLICT (aid) DO NOTHING`),
		selectStates: s(`SELECT aid, seq, parked FROM {s}.aggregates WHERE aid = ANY($1) ORDER BY aid FOR UPDATE`),
		saveStates: s(`INSERT INTO {s}.aggregates (aid, seq, parked)
			SELECT * FROM unnest($1::text[], $2::bigint[], $3::bool[]) ORDER BY 1
			ON CONFLICT (aid) DO UPDATE SET seq = excluded.seq, parked = excluded.parked`),
		saveOffsets: s(`INSERT INTO {s}.offsets (topic, partition, next)
			SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[]) ORDER BY 1, 2
			ON CONFLICT (topic, partition) DO UPDATE SET next = excluded.next`),

		upsertAccounts: s(`INSERT INTO {s}.accounts (id, name, version)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ORDER BY 1
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, version = excluded.version
			WHERE accounts.version < excluded.version`),
		upsertNames: s(`INSERT INTO {s}.names (id, name, version)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ORDER BY 1
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, version = excluded.version
			WHERE names.version < excluded.version`),
		insertUnknownNames: s(`INSERT INTO {s}.names (id, name, version)
			SELECT id, '', 0 FROM unnest($1::text[]) AS u(id) ORDER BY id ON CONFLICT (id) DO NOTHING`),
		shareNames: s(`SELECT count(*) FROM
			(SELECT 1 FROM {s}.names WHERE id = ANY($1) ORDER BY id FOR SHARE) AS locked`),
		renameMembers: s(`UPDATE {s}.members AS m SET name = n.name FROM {s}.names AS n
			WHERE m.account_id = ANY($1) AND n.id = m.account_id AND m.name <> n.name`),
		renameMessages: s(`UPDATE {s}.messages AS m SET sender_name = n.name FROM {s}.names AS n
			WHERE m.sender_id = ANY($1) AND n.id = m.sender_id AND m.sender_name <> n.name`),

		deleteRoomMessages: s(`DELETE FROM {s}.messages WHERE room_id = ANY($1)`),
		deleteRoomMembers:  s(`DELETE FROM {s}.members WHERE room_id = ANY($1)`),
		deleteRooms:        s(`DELETE FROM {s}.rooms WHERE id = ANY($1)`),
		// Created rooms start at version 0; updateRooms then writes their name, counts and version.
		insertRooms: s(`INSERT INTO {s}.rooms (id, name, member_count, last_message_at, version)
			SELECT id, name, 0, NULL, 0 FROM unnest($1::text[], $2::text[]) AS u(id, name) ORDER BY id
			ON CONFLICT (id) DO NOTHING`),
		updateRooms: s(`UPDATE {s}.rooms AS r SET
				name = coalesce(u.name, r.name),
				last_message_at = coalesce(u.last_message_at, r.last_message_at),
				version = u.version,
				member_count = CASE WHEN u.members_changed
					THEN (SELECT count(*) FROM {s}.members AS m WHERE m.room_id = r.id) ELSE r.member_count END
			FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[], $5::bool[])
				AS u(id, name, last_message_at, version, members_changed)
			WHERE r.id = u.id AND r.version < u.version`),

		deleteMembers: s(`DELETE FROM {s}.members AS m USING unnest($1::text[], $2::text[]) AS u(room_id, account_id)
			WHERE m.room_id = u.room_id AND m.account_id = u.account_id`),
		upsertMembers: s(`INSERT INTO {s}.members (room_id, account_id, name, role)
			SELECT u.room_id, u.account_id, coalesce(n.name, ''), u.role
			FROM unnest($1::text[], $2::text[], $3::text[]) AS u(room_id, account_id, role)
			JOIN {s}.rooms AS r ON r.id = u.room_id
			LEFT JOIN {s}.names AS n ON n.id = u.account_id
			ORDER BY 1, 2
			ON CONFLICT (room_id, account_id) DO UPDATE SET name = excluded.name, role = excluded.role`),
		deleteMessages: s(`DELETE FROM {s}.messages AS m USING unnest($1::text[], $2::text[]) AS u(id, room_id)
			WHERE m.id = u.id AND m.room_id = u.room_id`),
		insertMessages: s(`INSERT INTO {s}.messages (id, room_id, sender_id, sender_name, text, posted_at, edited_at)
			SELECT u.id, u.room_id, u.sender_id, coalesce(n.name, ''), u.text, u.posted_at, u.edited_at
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])
				AS u(id, room_id, sender_id, text, posted_at, edited_at)
			JOIN {s}.rooms AS r ON r.id = u.room_id
			LEFT JOIN {s}.names AS n ON n.id = u.sender_id
			ON CONFLICT (id) DO NOTHING`),
		editMessages: s(`UPDATE {s}.messages AS m SET text = u.text, edited_at = u.edited_at
			FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS u(id, room_id, text, edited_at)
			WHERE m.id = u.id AND m.room_id = u.room_id`),
	}
}
