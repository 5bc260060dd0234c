-- The first schema of a views target. Every statement runs with the target schema as the search_path, so the
-- names are unqualified; goose keeps its version table in the same schema.

-- Tables whose rows are updated in place (every batch rewrites a room's version, an aggregate's seq) leave room
-- on each page, so that updates stay on the page and skip the indexes (HOT updates).

-- +goose Up
CREATE TABLE accounts (
    id      text PRIMARY KEY,
    name    text NOT NULL,
    version bigint NOT NULL
) WITH (fillfactor = 70);

CREATE TABLE rooms (
    id              text PRIMARY KEY,
    name            text NOT NULL,
    member_count    int NOT NULL DEFAULT 0,
    last_message_at timestamptz,
    version         bigint NOT NULL
) WITH (fillfactor = 50);

CREATE TABLE members (
    room_id    text NOT NULL,
    account_id text NOT NULL,
    name       text NOT NULL, -- the account's current name, '' while unknown
    role       text NOT NULL,
    PRIMARY KEY (room_id, account_id)
) WITH (fillfactor = 80);
CREATE INDEX members_account_id ON members (account_id);

CREATE TABLE messages (
    id          text PRIMARY KEY,
    room_id     text NOT NULL,
    sender_id   text NOT NULL,
    sender_name text NOT NULL, -- the author's current name, '' while unknown
    text        text NOT NULL,
    posted_at   timestamptz NOT NULL,
    edited_at   timestamptz
) WITH (fillfactor = 90);
CREATE INDEX messages_room_page ON messages (room_id, posted_at DESC, id DESC);
CREATE INDEX messages_sender_id ON messages (sender_id);

-- Bookkeeping. A batch that copies account names into new rows locks the name_locks rows of those accounts
-- (bucket = fnv-1a 32 of the id mod 256) FOR SHARE, and a batch that registers or renames accounts locks theirs
-- FOR UPDATE, so the two serialize even for an account that is not registered yet.
CREATE TABLE name_locks (
    bucket int PRIMARY KEY
);
INSERT INTO name_locks (bucket) SELECT generate_series(0, 255);

CREATE TABLE aggregates (
    aid    text PRIMARY KEY,
    seq    bigint NOT NULL,
    parked boolean NOT NULL DEFAULT false
) WITH (fillfactor = 50);

CREATE TABLE offsets (
    topic     text NOT NULL,
    partition int NOT NULL,
    next      bigint NOT NULL,
    PRIMARY KEY (topic, partition)
);

-- +goose Down
DROP TABLE offsets;
DROP TABLE aggregates;
DROP TABLE name_locks;
DROP TABLE messages;
DROP TABLE members;
DROP TABLE rooms;
DROP TABLE accounts;
