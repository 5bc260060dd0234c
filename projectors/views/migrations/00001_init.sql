-- The first schema of a views target. Every statement runs with the target schema as the search_path, so the
-- names are unqualified; goose keeps its version table in the same schema.

-- +goose Up
CREATE TABLE accounts (
    id      text PRIMARY KEY,
    name    text NOT NULL,
    version bigint NOT NULL
);

CREATE TABLE rooms (
    id              text PRIMARY KEY,
    name            text NOT NULL,
    member_count    int NOT NULL DEFAULT 0,
    last_message_at timestamptz,
    version         bigint NOT NULL
);

CREATE TABLE members (
    room_id    text NOT NULL,
    account_id text NOT NULL,
    name       text NOT NULL, -- the account's current name, '' while unknown
    role       text NOT NULL,
    PRIMARY KEY (room_id, account_id)
);
CREATE INDEX members_account_id ON members (account_id);

CREATE TABLE messages (
    id          text PRIMARY KEY,
    room_id     text NOT NULL,
    sender_id   text NOT NULL,
    sender_name text NOT NULL, -- the author's current name, '' while unknown
    text        text NOT NULL,
    posted_at   timestamptz NOT NULL,
    edited_at   timestamptz
);
CREATE INDEX messages_room_page ON messages (room_id, posted_at DESC, id DESC);
CREATE INDEX messages_sender_id ON messages (sender_id);

-- Bookkeeping. names holds the current name of every account a row refers to: a registered account's name, or ''
-- (version 0) for one whose registration has not been applied yet. Room batches lock the rows they read FOR
-- SHARE and account batches update them, so a rename and a message of the same account serialize even when
-- the account is not registered yet.
CREATE TABLE names (
    id      text PRIMARY KEY,
    name    text NOT NULL,
    version bigint NOT NULL
);

CREATE TABLE aggregates (
    aid    text PRIMARY KEY,
    seq    bigint NOT NULL,
    parked boolean NOT NULL DEFAULT false
);

CREATE TABLE offsets (
    topic     text NOT NULL,
    partition int NOT NULL,
    next      bigint NOT NULL,
    PRIMARY KEY (topic, partition)
);

-- +goose Down
DROP TABLE offsets;
DROP TABLE aggregates;
DROP TABLE names;
DROP TABLE messages;
DROP TABLE members;
DROP TABLE rooms;
DROP TABLE accounts;
