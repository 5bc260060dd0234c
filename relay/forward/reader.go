package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/relay/lease"
	"github.com/cqrses-aws/pipeline/relay/stream"
)

// errFatal marks a failure retrying cannot cure (a journal item the relay cannot publish): the relay stops.
var errFatal = errors.New("relay cannot go on")

// reader relays one shard whose lease this instance holds, as a pipeline of three goroutines so that the
// stream, Kafka and the lease table are all busy at once: the read loop fetches and encodes pages; the publish
// loop sends them in batches, several in flight, and takes their acknowledgements in order; the checkpointer
// records the newest acknowledged position in the lease, coalescing positions that arrive while it writes. A
// position is thus checkpointed only after every record up to it was acknowledged.
//
// Two contexts govern it: stop (the relay's) ends the read loop, and the publish loop waits for the batches in
// flight, checkpoints them and drops the pages read ahead; work bounds every call and is cancelled when the lease
// is lost (or the shutdown's grace period ends), so a reader that lost its lease never checkpoints.
type reader struct {
	r        *Relay
	log      *slog.Logger
	stop     context.Context
	work     context.Context
	cancel   context.CancelCauseFunc
	mu       sync.Mutex
	lease    lease.Lease
	finished bool
	lostOnce sync.Once
	// item is the read loop's decoded stream record, whose payload memory serves item after item.
	item eventstore.Record
}

// page is one page of the shard, encoded and waiting to be published.
type page struct {
	records []*kgo.Record
	// last is the sequence number of the page's last stream record, "" for an empty page.
	last string
	// closed is set on the page that ends a closed shard.
	closed bool
	// created holds the stream records' approximate creation times, for the record age metric.
	created []time.Time
	// mem holds the memory of the records (the page's own, then that of the pages gathered with it), recycled
	// once Kafka acknowledged them.
	mem []*pageMemory
}

// pageMemory is what a page's records take: the records themselves, their values and headers in an arena,
// and the page's slices. A steady relay recycles it from acknowledged pages to new ones, so that it allocates
// next to nothing per event and the garbage collector seldom runs.
type pageMemory struct {
	arena   kafka.RecordArena
	records []*kgo.Record
	created []time.Time
	mem     []*pageMemory
}

// pageMemories holds the memory of acknowledged pages for the pages read next, across the readers.
var pageMemories = sync.Pool{New: func() any { return new(pageMemory) }}

// recycle makes the memory of an acknowledged batch's pages available again. Kafka is done with its records:
// every promise was called (franz-go reads a record until its promise), and the metrics and spans read them
// before. The slices the batch grew by gathering pages stay with its first page's memory.
func recycle(p page) {
	mems := p.mem
	if len(mems) == 0 {
		return
	}
	for _, m := range mems {
		m.arena.Reset()
	}
	for _, m := range mems[1:] {
		pageMemories.Put(m)
	}
	first := mems[0]
	clear(p.records) // the slice outlives the records: it must not keep other pages' arenas reachable
	clear(mems)
	first.records, first.created, first.mem = p.records[:0], p.created[:0], mems[:0]
	pageMemories.Put(first)
}

// readAhead is how many encoded pages wait for the publish loop (about 1 MB each at most); the loop publishes
// all that wait together, so a slow acknowledgement is amortized over more records.
const readAhead = 4

func (rd *reader) current() lease.Lease {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	return rd.lease
}

func (rd *reader) setLease(l lease.Lease) {
	rd.mu.Lock()
	rd.lease = l
	rd.mu.Unlock()
}

// run relays the shard until it is finished, the relay stops, or the lease is lost; it returns an errFatal
// error when the shard holds an event it cannot publish (after publishing and checkpointing the pages before).
func (rd *reader) run() error {
	pages := make(chan page, readAhead)
	published := make(chan struct{})
	go func() {
		defer close(published)
		rd.publishLoop(pages)
	}()
	err := rd.readLoop(pages)
	close(pages)
	<-published
	return err
}

// readLoop fetches and encodes the shard's pages into pages until the shard's end, the relay's stop or the
// lease's loss.
func (rd *reader) readLoop(pages chan<- page) error {
	l := rd.current()
	pos := l.Checkpoint
	iterator := ""
	var lastRecords time.Time // when the shard last gave records, for the pause after an empty page
	retry := backoff{min: 100 * time.Millisecond, max: 5 * time.Second}
	for rd.stop.Err() == nil && rd.work.Err() == nil {
		if iterator == "" {
			it, err := rd.r.src.Iterator(rd.work, l.StreamARN, l.ShardID, pos)
			if err != nil {
				if rd.vanished(err, pos) {
					return rd.endVanished(pages)
				}
				if pos = rd.streamError(err, pos); !errors.Is(err, stream.ErrTrimmed) {
					rd.wait(retry.next())
				}
				continue
			}
			iterator = it
		}
		got, err := rd.r.src.Records(rd.work, iterator)
		if err != nil {
			if rd.vanished(err, pos) {
				return rd.endVanished(pages)
			}
			pos = rd.streamError(err, pos)
			if errors.Is(err, stream.ErrExpiredIterator) || errors.Is(err, stream.ErrTrimmed) {
				iterator = "" // renewed at once from pos, the last position read
			} else {
				rd.wait(retry.next())
			}
			continue
		}
		retry.reset()
		p, err := rd.encode(got)
		if err != nil {
			return err
		}
		if p.last != "" || p.closed {
			select {
			case pages <- p:
			case <-rd.stop.Done():
				return nil
			case <-rd.work.Done():
				return nil
			}
		}
		if p.last != "" {
			pos = p.last
		}
		if p.closed {
			return nil
		}
		iterator = got.Next
		if now := time.Now(); len(got.Records) > 0 {
			lastRecords = now
		} else {
			rd.wait(rd.r.cfg.emptyPagePause(lastRecords, now))
		}
	}
	return nil
}

// publishLoop sends the pages in order, each time all the pages that wait (a page at least) as one batch, with
// up to maxInFlight batches sent and not yet acknowledged, so that Kafka is busy with the next batch while the
// previous one's acknowledgements come back. Acknowledgements are taken in the order the batches were sent, and
// each acknowledged position goes to the checkpointer: a position is checkpointed only once every record up to
// it was acknowledged. The page that closes the shard is checkpointed as finished once every earlier one is.
//
// When a batch fails, the batches sent after it are waited for, and from it on every batch is sent again in
// order: the failed one alone first, the others once it is acknowledged, so that a failure during the retry
// cannot let a later batch overtake it. That a later batch sent before the failure did not get through ahead of
// the failed one rests on the producer, as it did when one batch held several pages: an idempotent franz-go
// client fails every record buffered for a partition when one of them fails.
func (rd *reader) publishLoop(pages <-chan page) {
	cp := newCheckpointer(rd)
	defer cp.close()
	var window []*batch
	defer func() { drain(window) }()
	retry := backoff{min: 200 * time.Millisecond, max: 10 * time.Second}
	probing := false // the first batch is sent again after a failure; no other is sent until it is acknowledged
	// closing is set once the page that ends the shard is sent: the acknowledged positions before it are then
	// left to the finish write, which follows within a few acknowledgements, instead of each costing a lease
	// write that the finish would have to wait for. A crash meanwhile re-publishes those few batches.
	closing := false
	for in := pages; in != nil || len(window) > 0; {
		var head <-chan error
		if len(window) > 0 {
			head = window[0].acked
		}
		intake := in
		if len(window) >= maxInFlight || probing {
			intake = nil
		}
		select {
		case p, ok := <-intake:
			if !ok {
				in = nil
				continue
			}
			if rd.work.Err() != nil || rd.stop.Err() != nil {
				continue // lease lost, or pages read ahead of a shutdown: dropped unsent, never checkpointed
			}
			b := &batch{page: gather(p, in)}
			closing = closing || b.closed
			b.spans = startPublishSpans(b.records)
			rd.send(b)
			window = append(window, b)
		case err := <-head:
			b := window[0]
			if err != nil {
				if probing = rd.resend(window, err, &retry); !probing {
					return
				}
				continue
			}
			retry.reset()
			probing = false
			window = window[1:]
			rd.acked(b)
			recycle(b.page)
			for _, next := range window {
				if next.acked == nil {
					rd.send(next) // the batches after a failed one, now that it is acknowledged
				}
			}
			if !b.closed {
				if closing {
					cp.note(b.last)
				} else {
					cp.set(b.last)
				}
				continue
			}
			if cp.finish(b.last) {
				rd.finished = true
				rd.log.Info("shard read to its end", "shard", rd.current().ShardID)
			}
		}
	}
}

// maxInFlight is how many batches a reader has sent and not yet seen acknowledged (each up to 1+readAhead pages).
const maxInFlight = 4

// batch is one or more pages sent together, waiting for Kafka's acknowledgement.
type batch struct {
	page
	spans publishSpans
	sent  time.Time
	// acked receives the outcome of the last send (buffered: the publisher's callback never blocks); nil while
	// the batch waits to be sent again after a failure.
	acked chan error
}

// send hands the batch's records to the publisher; a batch without records is acknowledged at once.
func (rd *reader) send(b *batch) {
	acked := make(chan error, 1)
	b.acked, b.sent = acked, time.Now()
	if len(b.records) == 0 {
		acked <- nil
		return
	}
	rd.r.pub.Send(rd.work, b.records, func(err error) { acked <- err })
}

// acked records an acknowledged batch in the metrics and ends its spans.
func (rd *reader) acked(b *batch) {
	b.spans.end(true)
	b.spans = publishSpans{}
	if len(b.records) == 0 {
		return
	}
	now := time.Now()
	rd.r.metrics.produce.Observe(now.Sub(b.sent).Seconds())
	for from := 0; from < len(b.records); {
		// One counter update per run of a topic, not per record.
		topic, n := b.records[from].Topic, 1
		for from+n < len(b.records) && b.records[from+n].Topic == topic {
			n++
		}
		rd.r.metrics.records.WithLabelValues(topic).Add(float64(n))
		from += n
	}
	for _, c := range b.created {
		rd.r.metrics.recordAge.Observe(now.Sub(c).Seconds())
	}
}

// resend handles the failure (err) of the window's first batch: it waits for the other batches sent, pauses,
// and sends the first batch again (the others follow once it is acknowledged). It returns false when work
// ended first.
func (rd *reader) resend(window []*batch, err error, retry *backoff) bool {
	rd.r.metrics.publishFails.Inc()
	window[0].acked = nil
	for _, b := range window[1:] {
		if b.acked == nil {
			continue
		}
		if err := <-b.acked; err != nil {
			rd.r.metrics.publishFails.Inc()
		}
		b.acked = nil // sent again after the first, whatever its outcome: the first one's records go first
	}
	if rd.work.Err() != nil {
		return false
	}
	delay := retry.next()
	rd.log.Warn("Kafka did not acknowledge the batch; retrying it", "shard", rd.current().ShardID,
		"records", len(window[0].records), "retry_in", delay, "error", err)
	rd.waitWork(delay)
	if rd.work.Err() != nil {
		return false
	}
	rd.send(window[0])
	return true
}

// drain waits for the outcome of every batch still sent when the reader stops (so that no record of it is in
// flight once its lease is released) and ends their spans.
func drain(window []*batch) {
	for _, b := range window {
		acked := false
		if b.acked != nil {
			acked = <-b.acked == nil
		}
		b.spans.end(acked)
	}
}

// gather appends to p the pages already waiting in pages, at most readAhead of them (a batch stays bounded
// while the read loop keeps refilling), and none past the one that closes the shard.
func gather(p page, pages <-chan page) page {
	for n := 0; n < readAhead && !p.closed; n++ {
		select {
		case next, ok := <-pages:
			if !ok {
				return p
			}
			p.records = append(p.records, next.records...)
			p.created = append(p.created, next.created...)
			p.mem = append(p.mem, next.mem...)
			if next.last != "" {
				p.last = next.last
			}
			p.closed = next.closed
		default:
			return p
		}
	}
	return p
}

// checkpointer writes the newest acknowledged position to the lease in the background, one write at a time.
type checkpointer struct {
	rd      *reader
	mu      sync.Mutex
	latest  string
	written string
	kick    chan struct{}
	done    chan struct{}
	closed  bool
	ok      bool
	// stopping makes a pending kick a no-op: the caller writes the newest position itself.
	stopping bool
}

func newCheckpointer(rd *reader) *checkpointer {
	c := &checkpointer{rd: rd, kick: make(chan struct{}, 1), done: make(chan struct{}), ok: true}
	go func() {
		defer close(c.done)
		for range c.kick {
			c.mu.Lock()
			stopping := c.stopping
			c.mu.Unlock()
			if !stopping {
				c.write()
			}
		}
	}()
	return c
}

// set makes seq the position to checkpoint next.
func (c *checkpointer) set(seq string) {
	if seq == "" {
		return
	}
	c.note(seq)
	select {
	case c.kick <- struct{}{}:
	default: // a write is pending; it will take the newest position
	}
}

// note makes seq the position to checkpoint without waking the background writer: the shard's finish, or the
// reader's close, writes it.
func (c *checkpointer) note(seq string) {
	if seq == "" {
		return
	}
	c.mu.Lock()
	c.latest = seq
	c.mu.Unlock()
}

// write checkpoints the newest position when it is not written yet.
func (c *checkpointer) write() {
	c.mu.Lock()
	seq := c.latest
	c.mu.Unlock()
	if seq == c.written || !c.ok {
		return
	}
	if c.ok = c.rd.checkpoint(seq, false); c.ok {
		c.written = seq
	}
}

// close stops the background writer and writes the newest position if needed; it reports whether every
// position was checkpointed. Later calls return the first result.
func (c *checkpointer) close() bool {
	if !c.closed {
		c.stop()
		c.write()
	}
	return c.ok && c.latest == c.written
}

// finish stops the background writer and checkpoints the shard as finished at seq ("": at the newest position),
// in one write rather than the newest position's and then the end's; it reports whether it was written.
func (c *checkpointer) finish(seq string) bool {
	c.mu.Lock()
	if seq != "" {
		c.latest = seq
	}
	seq = c.latest
	c.mu.Unlock()
	if c.closed {
		return false
	}
	c.stop()
	if !c.ok {
		return false
	}
	if c.ok = c.rd.checkpoint(seq, true); c.ok {
		c.written = seq
	}
	return c.ok
}

// stop ends the background writer, once its write in progress (if any) is done; a position set but not yet
// taken up is left for the caller to write.
func (c *checkpointer) stop() {
	c.closed = true
	c.mu.Lock()
	c.stopping = true
	c.mu.Unlock()
	close(c.kick)
	<-c.done
}

// vanished reports whether err says the shard is gone and the stream's description agrees: a closed shard
// whose records all passed the 24-hour retention while the relay was behind. Its unread records are lost.
func (rd *reader) vanished(err error, pos string) bool {
	if !errors.Is(err, stream.ErrNotFound) || rd.work.Err() != nil {
		return false
	}
	l := rd.current()
	shards, serr := rd.r.src.Shards(rd.work, l.StreamARN)
	if serr != nil {
		return false
	}
	for _, s := range shards {
		if s.ID == l.ShardID {
			return false
		}
	}
	rd.r.metrics.streamErrors.WithLabelValues("gone").Inc()
	rd.r.metrics.trimmed.Inc()
	rd.log.Error("shard left the stream before it was read to its end: its unread events are missing from Kafka; "+
		"re-seed the topics from the journal with `relay reseed`", "shard", l.ShardID, "after", pos, "error", err)
	return true
}

// endVanished hands the publish loop a page that finishes the gone shard, so its children may be read.
func (rd *reader) endVanished(pages chan<- page) error {
	select {
	case pages <- page{closed: true}:
	case <-rd.stop.Done():
	case <-rd.work.Done():
	}
	return nil
}

// streamError records a failed stream call and returns the position to read from next: after a trim, the
// oldest record kept ("").
func (rd *reader) streamError(err error, pos string) string {
	if rd.work.Err() != nil {
		return pos
	}
	shard := rd.current().ShardID
	switch rd.r.countStreamError(err) {
	case "expired":
		rd.log.Info("shard iterator expired; renewing it from the checkpoint", "shard", shard)
	case "trimmed":
		rd.r.metrics.trimmed.Inc()
		rd.log.Error("stream records were trimmed before they were relayed: events are missing from Kafka; "+
			"re-seed the topics from the journal with `relay reseed`", "shard", shard, "after", pos, "error", err)
		return ""
	case "throttled":
		rd.log.Warn("stream read throttled; backing off", "shard", shard)
	default:
		rd.log.Warn("stream read failed; retrying", "shard", shard, "error", err)
	}
	return pos
}

// encode turns a page of stream records into the Kafka records of its inserted events; it returns an
// errFatal error for an item that is not a publishable event.
func (rd *reader) encode(got stream.Page) (page, error) {
	p := page{closed: got.Next == ""}
	if len(got.Records) == 0 {
		return p, nil
	}
	m := pageMemories.Get().(*pageMemory)
	p.records, p.created, p.mem = m.records[:0], m.created[:0], append(m.mem[:0], m)
	for _, sr := range got.Records {
		if !sr.ApproximateCreation.IsZero() {
			p.created = append(p.created, sr.ApproximateCreation)
		}
		if !sr.Insert {
			continue // the journal is append-only; a change that is not an insert is not an event
		}
		if err := eventstore.DecodeItem(sr.NewImage, &rd.item); err != nil {
			return page{}, rd.fatal(sr, err)
		}
		env := Envelope(rd.item)
		kr, err := rd.r.enc.RecordIn(&m.arena, &env)
		if err != nil {
			return page{}, rd.fatal(sr, err)
		}
		p.records = append(p.records, kr)
	}
	p.last = got.Records[len(got.Records)-1].SequenceNumber
	return p, nil
}

func (rd *reader) fatal(sr stream.Record, err error) error {
	return fmt.Errorf("%w: stream record %s of shard %s: %w", errFatal, sr.SequenceNumber, rd.current().ShardID, err)
}

// checkpoint records seq (and whether the shard is finished) in the lease, retrying while the lease table is
// unreachable; false when the lease is lost or work ended, in which case the reader must stop.
func (rd *reader) checkpoint(seq string, finished bool) bool {
	retry := backoff{min: 100 * time.Millisecond, max: 5 * time.Second}
	for rd.work.Err() == nil {
		l, err := rd.r.leases.Checkpoint(rd.work, rd.current(), seq, finished, rd.r.cfg.LeaseTTL)
		if err == nil {
			rd.setLease(l)
			return true
		}
		if errors.Is(err, lease.ErrLost) {
			rd.lost(err)
			return false
		}
		if rd.work.Err() != nil {
			return false
		}
		rd.log.Warn("checkpoint failed; retrying", "shard", rd.current().ShardID, "error", err)
		rd.waitWork(retry.next())
	}
	return false
}

// lost stops the reader because its lease changed hands.
func (rd *reader) lost(err error) {
	// The renewer and the checkpointer may both find out; the loss is counted once.
	rd.lostOnce.Do(func() {
		rd.r.metrics.leasesLost.Inc()
		rd.log.Warn("lease lost; stopping the shard's reader", "shard", rd.current().ShardID, "error", err)
		rd.cancel(err)
	})
}

// wait pauses for d, or less when the relay stops or the lease is lost.
func (rd *reader) wait(d time.Duration) { rd.pause(d, rd.stop.Done()) }

// waitWork pauses for d, or less when the lease is lost; a shutdown does not cut it short, so the in-flight
// page is still relayed and checkpointed.
func (rd *reader) waitWork(d time.Duration) { rd.pause(d, nil) }

// pause waits for d, for the lease's loss, or for stop (nil: never).
func (rd *reader) pause(d time.Duration, stop <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-stop:
	case <-rd.work.Done():
	}
}

// backoff is an exponential delay between min and max.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	return b.cur
}

func (b *backoff) reset() { b.cur = 0 }
