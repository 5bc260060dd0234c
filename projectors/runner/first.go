package runner

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// drainWait is how long a poll may find no account event before the accounts count as caught up.
const drainWait = time.Second

// accountsFirst holds the room events back at start until the account events in hand are applied. A replay
// from offset zero then writes every message with its sender's final name, instead of writing it with each
// name in turn as the renames come in (the cost of a rebuild would grow with renames × messages). Order within
// an aggregate is untouched: each aggregate type has its own topic.
type accountsFirst struct {
	cl       *kgo.Client
	rest     []string
	assigned atomic.Bool
	waiting  bool
}

// start pauses the rest topics.
func (a *accountsFirst) start(cl *kgo.Client, rest ...string) {
	a.cl, a.rest, a.waiting = cl, rest, true
	cl.PauseFetchTopics(rest...)
}

// pollContext bounds a poll while waiting, so that an empty account topic is noticed.
func (a *accountsFirst) pollContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if !a.waiting {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, drainWait)
}

// drained resumes the rest topics once a poll after the group assignment brought no record; it reports whether
// it did so now.
func (a *accountsFirst) drained(ctx context.Context, got int) bool {
	if !a.waiting || got > 0 || ctx.Err() != nil || !a.assigned.Load() {
		return false
	}
	a.waiting = false
	a.cl.ResumeFetchTopics(a.rest...)
	return true
}
