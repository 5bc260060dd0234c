package projection

import "context"

// Preparer is implemented by a Target that builds faster when it can look ahead. A replay applies years of
// events in order, and some models rewrite earlier rows on later events (a room rename rewrites the room's
// messages in the search index); knowing the outcome of such events up front lets a target write each row once.
//
// Before a version that is not live starts to consume, its runner's supervisor calls Prepare with the horizon:
// per partition, an offset that the version is sure to have applied before it can go live (the live version's
// position, or the end of the topics when none is live). Until the version passes the horizon nobody reads it,
// so the target may write rows as they will be at the horizon rather than as they are at the event it applies.
// A target that uses the horizon must keep the first one it was given (a restarted build resumes with the rows
// written so far) and must ignore it when rows were written before it knew one.
type Preparer interface {
	// Prepare is called once per opened target of a version that is not live, before its first batch; read
	// reads the events before a horizon. An error is transient: the caller tries again.
	Prepare(ctx context.Context, horizon Offsets, read ReadFunc) error
}

// ReadFunc reads the events of the topics in until from their first offset up to until's offset (excluded),
// in order per partition, and calls fn with each event whose type is one of types (all events when types is
// empty); events that do not decode are skipped. It returns fn's first error.
type ReadFunc func(ctx context.Context, until Offsets, types []string, fn func(Event) error) error
