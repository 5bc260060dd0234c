// Package eventstore is the write side's event store: the journal of domain events in DynamoDB, aggregate
// snapshots (inline in DynamoDB, or in S3 when large), entities and idempotency records, behind the Store
// interface. DynamoDB
// is the production implementation; Memory is an in-memory one with the same semantics for tests, and the
// eventstoretest package holds the contract suite both pass.
//
// # Journal (contract)
//
// One item per event: aid (S, partition key), seq (N, sort key, 1, 2, 3, …), aggregate_type, type, version (N),
// event_id, occurred_at (RFC 3339 with nanoseconds, UTC), correlation_id, causation_id, command_id, traceparent
// (S, possibly empty) and payload (S, the JSON text). The Attr constants name them; JournalItem and
// RecordFromItem map a Record to an item and back, for the relay, which reads the same attributes from the
// table's stream (NEW_IMAGE). Events are read with a strongly consistent Query, following LastEvaluatedKey, never
// through a GSI (eventually consistent).
//
// # Append
//
// An append is one TransactWriteItems: a Put of each event with attribute_not_exists(aid), a ConditionCheck
// that event ExpectedSeq exists (when ExpectedSeq > 0: a caller that is ahead of the journal gets a conflict
// instead of leaving a gap downstream projections would stall on), the snapshot pointer, an Update of each
// entity and the idempotency record, in this order. A failed condition on an event surfaces as a
// *ConflictError (errors.Is ErrVersionConflict) naming the aggregate and the seq; an entity to create that
// exists as ErrEntityExists, which wins over a conflict; a live idempotency key as ErrIdempotencyKeyExists,
// which wins over both. Nothing is written in any case.
//
// DynamoDB holds at most 100 items and 4 MB in one transaction and 400 KB in one item. An append beyond these
// limits (counting the ExpectedSeq check, the snapshot pointer, the entities and the idempotency record as
// items) is refused
// whole with ErrTooLarge naming the limit, never split into several transactions: a split append would no longer
// be atomic, and a crash between its parts would leave half a command in the journal. The writer appends a
// handful of events per command, far below the limits.
//
// # Snapshots
//
// The snapshots table holds one pointer item per aggregate, overwritten in each append that carries a snapshot
// (the newest wins: the events' conditions make an older one impossible). State of at most
// InlineSnapshotMaxBytes (64 KiB by default) is stored in the item; larger state is first written to S3, with
// If-None-Match: *, under snapshots/<aggregate id>/<seq, 20 digits>-<random suffix>, and the item holds the key.
// Objects are immutable and never reused: a retried append after a conflict writes a new object rather than
// colliding with the orphan of the failed one. Orphans (objects whose transaction failed, and snapshots
// superseded by newer ones) are harmless; give the bucket a lifecycle rule that expires objects under
// snapshots/ after some weeks. A pointer whose object has expired reads as no snapshot, so the aggregate is
// replayed from its first event: always correct, only slower, until its next snapshot.
//
// SaveSnapshot writes a snapshot outside any append (the writer saves them in the background, after the
// append, so that snapshots never hold up a command): the same object and pointer, the pointer put alone with
// the same condition (no pointer, or one of an older seq). A pointer already at the seq or newer is left as it
// is. Snapshots saved this way and those of appends replace each other by seq alone.
//
// # Entities
//
// The entities table holds small records of their own, keyed by a key unique across aggregates (a room's
// message: its author, whether it is deleted), so that an aggregate's state need not grow with them. They are
// written only in the transaction of the events that change them, each an Update that sets the attributes it
// names (strings, names [a-z][a-z0-9_]{0,63}) and keeps the others, with attribute_not_exists(key) when it
// creates; so they are always what the journal says. Entity reads one with a strongly consistent GetItem.
//
// # Idempotency
//
// The idempotency table is keyed by the key and holds request_hash, response (B) and expires_at (N, epoch
// seconds, the table's TTL attribute). A record lives through its expiry second; after that Idempotency reads it
// as none and an append may replace it (condition attribute_not_exists(key) OR expires_at < now), even before
// DynamoDB's TTL has deleted it.
//
// # Errors
//
// Every DynamoDB and S3 call (an S3 object's body read included) runs under a context that ends at the earlier
// of the caller's deadline and DynamoDBConfig.CallTimeout (5 s by default), so that a server that accepts a
// request and never answers cannot hold a command. SDK errors that mean the server is unreachable, throttled
// past the retries, or failed with a 5xx or a timeout, the call timeout included, are wrapped with
// ErrUnavailable (the cause kept); when the caller's context ends, its error is returned.
package eventstore
