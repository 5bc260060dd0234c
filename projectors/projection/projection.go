// Package projection is the contract between the projectors' runner and the read models it builds: a Projection
// knows how to create, switch and drop the versioned targets of one read model, and a Target applies batches of
// events inside a unit of work (Tx). The runner (package runner) decides which events to apply, park or fetch;
// the targets only store.
package projection

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/cqrses-aws/pipeline/schemas"
)

// Event is one event handed to a target: the envelope upcast to its type's current version, its decoded payload
// (a pointer to the current version's Go type, e.g. *schemas.MemberAddedV2) and where it was read. Events that
// come from the journal to fill a gap carry Topic "" and Offset -1.
type Event struct {
	schemas.Envelope
	Payload   any
	Topic     string
	Partition int32
	Offset    int64
}

// State is what a target keeps per aggregate, written in the same unit of work as the aggregate's rows.
type State struct {
	// Seq is the last applied seq of the aggregate; 0 when nothing was applied.
	Seq int64
	// Parked is set when an event of the aggregate went to the dead-letter topic: the aggregate's later events
	// follow it there, so that per-aggregate order holds, until a redrive applies them.
	Parked bool
}

// Offsets are the next offsets to consume, per topic and partition.
type Offsets map[string]map[int32]int64

// Set records next as the next offset of topic/partition.
func (o Offsets) Set(topic string, partition int32, next int64) {
	if o[topic] == nil {
		o[topic] = make(map[int32]int64)
	}
	o[topic][partition] = next
}

// Projection is the code of one read model. Its targets are named "<Name>_v<version>" and its stable name
// (search alias, Postgres schema of views) points at the live one. Implementations are safe for concurrent use;
// every method may be called from several processes at once and must be idempotent.
type Projection interface {
	// Name returns the read model's stable name, e.g. "views"; it is also the consumer group's and the
	// dead-letter topic's stem.
	Name() string
	// Version returns the lowest version this code builds; a deployment whose live version is older builds
	// this one beside it and switches.
	Version() int
	// Live returns the version the stable name points at, with ok false when it points at none yet.
	Live(ctx context.Context) (version int, ok bool, err error)
	// Versions returns the versions whose targets exist, ascending.
	Versions(ctx context.Context) ([]int, error)
	// Open creates the target of version when it does not exist (migrating it to the code's schema) and returns
	// it; the target is empty when just created.
	Open(ctx context.Context, version int) (Target, error)
	// Switch points the stable name at version to, atomically, if it still points at version from (0: at none):
	// a compare-and-set, so that a process acting on what it read earlier cannot move the name back to an older
	// version another process has replaced. A reader sees the old target or the new one, never a mix and never
	// none. When the name points elsewhere, nothing changes and the answer is ErrSwitchConflict (wrapped).
	Switch(ctx context.Context, from, to int) error
	// Drop deletes version's target with everything in it; dropping a missing target succeeds. Dropping the
	// live version fails with ErrLive.
	Drop(ctx context.Context, version int) error
}

// Target is one version of a read model. Errors from a Target are transient unless the context ended or they are
// a *PermanentError: the runner retries the whole batch with backoff and never skips it.
type Target interface {
	// Offsets returns the next offsets stored with the model, or nil when the target does not store offsets
	// (then the consumer group's committed offsets are authoritative).
	Offsets(ctx context.Context) (Offsets, error)
	// Begin starts the unit of work of one batch.
	Begin(ctx context.Context) (Tx, error)
	// Close releases what Open acquired; it does not delete anything.
	Close() error
}

// Delayed is implemented by a Target whose committed writes reach readers only later, such as a search index
// refreshed periodically; the runner adds VisibilityDelay to the freshness it records.
type Delayed interface {
	// VisibilityDelay returns the longest a committed write waits before readers see it.
	VisibilityDelay() time.Duration
}

// Tx is the unit of work of one batch: States, then Apply, then Save, then Commit; Rollback abandons it (and
// is a no-op after Commit). A Tx is used by one goroutine.
type Tx interface {
	// States returns the stored state of each aggregate id (the zero State for one never seen). Where the store
	// has transactions it locks those rows until Commit, so concurrent batches on the same aggregates serialize.
	States(ctx context.Context, aggregateIDs []string) (map[string]State, error)
	// Apply applies events to the model. Each aggregate's events come in seq order, contiguous after its
	// State.Seq; events of different aggregates come in no particular order. Applying an event already applied
	// must change nothing (duplicates are filtered before, but a crash between writes can repeat one).
	Apply(ctx context.Context, events []Event) error
	// Save records the new state of the aggregates that changed and the next offsets of the partitions the
	// batch read.
	Save(ctx context.Context, states map[string]State, next Offsets) error
	// Commit makes the batch durable: for a transactional store, rows, states and offsets at once; for another,
	// the model's writes first and the states last, so that a state never runs ahead of the rows.
	Commit(ctx context.Context) error
	// Rollback abandons the batch; it is safe to call after Commit.
	Rollback(ctx context.Context) error
}

// PermanentError is a Target's answer for one event that can never apply, however often it is tried (the fold
// does not handle its type, a value the model cannot store). The runner dead-letters that event with Reason, parks
// its aggregate (its later events follow it into the dead-letter topic, so order holds), and tries the rest of the
// batch again; every other error is transient and retried.
type PermanentError struct {
	// AggregateID and Seq name the event.
	AggregateID string
	Seq         int64
	// Err says why it can never apply.
	Err error
}

func (e *PermanentError) Error() string {
	return "event " + e.AggregateID + "@" + strconv.FormatInt(e.Seq, 10) + " can never apply: " + e.Err.Error()
}

func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent returns the PermanentError of ev for err.
func Permanent(ev Event, err error) error {
	return &PermanentError{AggregateID: ev.AggregateID, Seq: ev.Seq, Err: err}
}

// ErrSwitchConflict is Switch's answer when the stable name no longer points at the version the caller expected.
var ErrSwitchConflict = errors.New("the live version changed meanwhile")

// ErrLive is Drop's answer for the live version.
var ErrLive = errors.New("the version is live")

// TargetName returns the name of version's target: "<name>_v<version>".
func TargetName(name string, version int) string { return name + "_v" + strconv.Itoa(version) }

// GroupID returns the consumer group of version: "<name>.v<version>".
func GroupID(name string, version int) string { return name + ".v" + strconv.Itoa(version) }

// DLQTopic returns the dead-letter topic of a projection: "<prefix>.<name>.dlq".
func DLQTopic(prefix, name string) string { return prefix + "." + name + ".dlq" }
