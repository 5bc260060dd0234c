// Package eventgen generates valid random event histories for tests and benchmarks: seeded and deterministic,
// fast (a million events in about three seconds of CPU) and bounded in memory, with every envelope valid per
// schemas.Validate and every event allowed by the domain's rules at the point it occurs. Produce and ProduceN
// write them to the event topics the relay publishes to.
package eventgen

import (
	"time"

	"github.com/cqrses-aws/pipeline/schemas"
)

// Config sets up a Generator; its zero value (but for Seed) gives the defaults.
type Config struct {
	// Seed makes the history: the same Config gives the same events.
	Seed int64
	// Accounts is how many accounts register over time, as acct-0, acct-1, …; default 1000.
	Accounts int
	// Rooms is how many live rooms the generator aims at: it creates rooms until there are that many and
	// replaces deleted ones; default 100.
	Rooms int
	// Mix weighs the event types. Its zero value means the default realistic chat mix (DefaultMix). Types left
	// out, unknown types and weights below 1 are never chosen; accounts and rooms are still registered and
	// created when nothing else is possible, and a chosen event the state does not allow (an edit in a room
	// without messages) becomes a MessagePosted.
	Mix map[string]int
	// Start is the time of the first event; the zero value means 2025-01-01T00:00:00Z. Each next event is
	// 1 ms to 1 s later.
	Start time.Time
}

// DefaultAccounts is Config.Accounts when it is not set.
const DefaultAccounts = 1000

// DefaultRooms is Config.Rooms when it is not set.
const DefaultRooms = 100

// DefaultStart is the time of the first event when Config.Start is zero.
var DefaultStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// DefaultMix returns the default weights, in thousandths: mostly posts, some edits and deletes, members added
// and removed, rare renames and very rare room deletions; registrations and room creations stop once every
// account is registered and the rooms are there.
func DefaultMix() map[string]int {
	return map[string]int{
		schemas.TypeMessagePosted:     700,
		schemas.TypeMessageEdited:     80,
		schemas.TypeMessageDeleted:    40,
		schemas.TypeMemberAdded:       60,
		schemas.TypeMemberRemoved:     25,
		schemas.TypeRoomRenamed:       15,
		schemas.TypeAccountRenamed:    15,
		schemas.TypeRoomDeleted:       2,
		schemas.TypeAccountRegistered: 40,
		schemas.TypeRoomCreated:       20,
	}
}

// withDefaults returns cfg with its zero fields set to the defaults.
func (cfg Config) withDefaults() Config {
	if cfg.Accounts < 1 {
		cfg.Accounts = DefaultAccounts
	}
	if cfg.Rooms < 1 {
		cfg.Rooms = DefaultRooms
	}
	if len(cfg.Mix) == 0 {
		cfg.Mix = DefaultMix()
	}
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	cfg.Start = cfg.Start.UTC().Truncate(time.Millisecond)
	return cfg
}
