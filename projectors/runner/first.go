package runner

import (
	"context"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	// drainWait bounds a poll while the room events are held back, so that the catch-up is checked at least
	// this often even when no account event comes.
	drainWait = time.Second
	// maxAccountsFirst bounds the hold: past it the room events resume whatever the account partitions do (a
	// safety net for a partition that cannot be read; catching up to the end offsets ends the hold long before
	// on a healthy cluster).
	maxAccountsFirst = 30 * time.Second
	// endsTimeout bounds the read of the account partitions' end offsets.
	endsTimeout = 5 * time.Second
)

// accountsFirst holds the room events back at start until the account events that existed at the group
// assignment are applied. A replay from offset zero then writes every message with its sender's final name,
// instead of writing it with each name in turn as the renames come in (the cost of a rebuild would grow with
// renames × messages). The hold ends when every assigned account partition has been consumed up to the end
// offset it had at the assignment: new account events arriving meanwhile do not extend it, so room events
// resume within seconds of a restart however busy the account topic is. Order within an aggregate is untouched:
// each aggregate type has its own topic.
type accountsFirst struct {
	topic   string   // the account topic
	rest    []string // the topics held back
	cl      *kgo.Client
	adm     *kadm.Client
	waiting bool // used by the poll loop only

	mu       sync.Mutex
	assigned time.Time       // the first assignment; zero before
	gen      int             // counts the assignments
	starts   map[int32]int64 // per assigned account partition, the offset consumption starts from
	ends     map[int32]int64 // the end offsets at the assignment; nil until read
	pos      map[int32]int64 // the offset after the last record polled
}

// newAccountsFirst returns the hold of the rest topics behind the account topic topic; it is made before the
// Kafka client, whose group management calls assign from its own goroutine as soon as it exists.
func newAccountsFirst(topic string, rest ...string) *accountsFirst {
	return &accountsFirst{topic: topic, rest: rest, pos: map[int32]int64{}}
}

// start pauses the rest topics.
func (a *accountsFirst) start(cl *kgo.Client) {
	a.cl, a.adm, a.waiting = cl, kadm.NewClient(cl), true
	cl.PauseFetchTopics(a.rest...)
}

// assign records the account partitions of a group assignment and the offsets they start from (a negative
// offset, the log start, counts as 0); a new assignment during the hold reads the end offsets again.
func (a *accountsFirst) assign(offsets map[string]map[int32]kgo.Offset) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.assigned.IsZero() {
		a.assigned = time.Now()
	}
	a.gen++
	a.starts, a.ends = map[int32]int64{}, nil
	for p, o := range offsets[a.topic] {
		a.starts[p] = max(o.EpochOffset().Offset, 0)
	}
}

// pollContext bounds a poll while waiting, so that the catch-up is checked regularly.
func (a *accountsFirst) pollContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if !a.waiting {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, drainWait)
}

// observe notes how far the polled records reach on the account partitions.
func (a *accountsFirst) observe(recs []*kgo.Record) {
	if !a.waiting {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range recs {
		if r.Topic == a.topic && r.Offset+1 > a.pos[r.Partition] {
			a.pos[r.Partition] = r.Offset + 1
		}
	}
}

// caughtUp resumes the rest topics once every assigned account partition is consumed up to its end offset at
// the assignment, halted, or the hold has lasted maxAccountsFirst, and reports why it did so now ("" while it
// still waits). An empty poll after the assignment (got == 0) means the account topic has nothing more to give
// now, which ends the hold too.
func (a *accountsFirst) caughtUp(ctx context.Context, got int, halted func(topic string, partition int32) bool) string {
	if !a.waiting || ctx.Err() != nil {
		return ""
	}
	why := a.reason(ctx, got, halted)
	if why != "" {
		a.waiting = false
		a.cl.ResumeFetchTopics(a.rest...)
	}
	return why
}

func (a *accountsFirst) reason(ctx context.Context, got int, halted func(string, int32) bool) string {
	a.mu.Lock()
	assigned, gen, starts, ends := a.assigned, a.gen, a.starts, a.ends
	a.mu.Unlock()
	switch {
	case assigned.IsZero():
		return ""
	case got == 0:
		return "no account event in hand"
	case time.Since(assigned) >= maxAccountsFirst:
		return "held for " + maxAccountsFirst.String()
	}
	if ends == nil {
		ends = a.readEnds(ctx, gen, starts)
		if ends == nil {
			return ""
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for p, end := range ends {
		if max(a.pos[p], starts[p]) < end && !halted(a.topic, p) {
			return ""
		}
	}
	return "account partitions caught up to their end offsets at the assignment"
}

// readEnds reads the end offsets of the assigned account partitions and keeps them unless the assignment
// changed meanwhile; nil when they cannot be read now (the next check tries again).
func (a *accountsFirst) readEnds(ctx context.Context, gen int, starts map[int32]int64) map[int32]int64 {
	ends := map[int32]int64{}
	if len(starts) > 0 {
		ctx, cancel := context.WithTimeout(ctx, endsTimeout)
		defer cancel()
		listed, err := a.adm.ListEndOffsets(ctx, a.topic)
		if err == nil {
			err = listed.Error()
		}
		if err != nil {
			return nil
		}
		listed.Each(func(o kadm.ListedOffset) {
			if _, ok := starts[o.Partition]; ok {
				ends[o.Partition] = o.Offset
			}
		})
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.gen != gen {
		return nil
	}
	a.ends = ends
	return ends
}
