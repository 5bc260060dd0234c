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
	"github.com/cqrses-aws/pipeline/relay/lease"
	"github.com/cqrses-aws/pipeline/relay/stream"
)

// errFatal marks a failure retrying cannot cure (a journal item the relay cannot publish): the relay stops.
var errFatal = errors.New("relay cannot go on")

// reader relays one shard whose lease this instance holds: page by page, it publishes the page's events, waits
// for Kafka's acknowledgement, then checkpoints the page's last sequence number.
//
// Two contexts govern it: stop (the relay's) is looked at between pages, so a shutdown finishes the in-flight
// page and checkpoints it; work bounds every call and is cancelled when the lease is lost (or the shutdown's
// grace period ends), so a reader that lost its lease never checkpoints.
type reader struct {
	r        *Relay
	log      *slog.Logger
	stop     context.Context
	work     context.Context
	cancel   context.CancelCauseFunc
	mu       sync.Mutex
	lease    lease.Lease
	finished bool
}

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

// run reads the shard until it is finished, the relay stops, or the lease is lost; it returns an errFatal error
// when the shard holds an event it cannot publish.
func (rd *reader) run() error {
	l := rd.current()
	pos := l.Checkpoint
	iterator := ""
	retry := backoff{min: 100 * time.Millisecond, max: 5 * time.Second}
	for rd.stop.Err() == nil && rd.work.Err() == nil {
		if iterator == "" {
			it, err := rd.r.src.Iterator(rd.work, l.StreamARN, l.ShardID, pos)
			if err != nil {
				if pos = rd.streamError(err, pos); !errors.Is(err, stream.ErrTrimmed) {
					rd.wait(retry.next())
				}
				continue
			}
			iterator = it
		}
		page, err := rd.r.src.Records(rd.work, iterator)
		if err != nil {
			pos = rd.streamError(err, pos)
			if errors.Is(err, stream.ErrExpiredIterator) || errors.Is(err, stream.ErrTrimmed) {
				iterator = "" // renewed at once from pos
			} else {
				rd.wait(retry.next())
			}
			continue
		}
		retry.reset()
		last, ok, err := rd.relayPage(page)
		if err != nil || !ok {
			return err
		}
		closed := page.Next == ""
		if (last != "" || closed) && !rd.checkpoint(last, closed) {
			return nil
		}
		if last != "" {
			pos = last
		}
		if closed {
			rd.finished = true
			rd.log.Info("shard read to its end", "shard", l.ShardID)
			return nil
		}
		iterator = page.Next
		if len(page.Records) == 0 {
			rd.wait(rd.r.cfg.IdleWait)
		}
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

// relayPage publishes the page's inserted events and returns the page's last sequence number ("" for an empty
// page) once Kafka acknowledged them all; it retries a failed publish until it succeeds or work ends (ok false).
func (rd *reader) relayPage(page stream.Page) (last string, ok bool, err error) {
	if len(page.Records) == 0 {
		return "", true, nil
	}
	records := make([]*kgo.Record, 0, len(page.Records))
	for _, sr := range page.Records {
		if !sr.Insert {
			continue // the journal is append-only; a change that is not an insert is not an event
		}
		ev, err := eventstore.RecordFromItem(sr.NewImage)
		if err != nil {
			return "", false, rd.fatal(sr, err)
		}
		kr, err := EventRecord(rd.r.cfg.TopicPrefix, ev)
		if err == nil && !rd.r.topics[kr.Topic] {
			err = fmt.Errorf("aggregate type %q has no topic", ev.AggregateType)
		}
		if err != nil {
			return "", false, rd.fatal(sr, err)
		}
		records = append(records, kr)
	}
	if len(records) > 0 && !rd.publish(records) {
		return "", false, nil
	}
	now := time.Now()
	for _, sr := range page.Records {
		if !sr.ApproximateCreation.IsZero() {
			rd.r.metrics.recordAge.Observe(now.Sub(sr.ApproximateCreation).Seconds())
		}
	}
	return page.Records[len(page.Records)-1].SequenceNumber, true, nil
}

func (rd *reader) fatal(sr stream.Record, err error) error {
	return fmt.Errorf("%w: stream record %s of shard %s: %w", errFatal, sr.SequenceNumber, rd.current().ShardID, err)
}

// publish sends the records until Kafka acknowledges all of them; false when work ended first.
func (rd *reader) publish(records []*kgo.Record) bool {
	retry := backoff{min: 200 * time.Millisecond, max: 10 * time.Second}
	for rd.work.Err() == nil {
		start := time.Now()
		err := rd.r.pub.Publish(rd.work, records)
		if err == nil {
			rd.r.metrics.produce.Observe(time.Since(start).Seconds())
			for _, r := range records {
				rd.r.metrics.records.WithLabelValues(r.Topic).Inc()
			}
			return true
		}
		if rd.work.Err() != nil {
			return false
		}
		rd.r.metrics.publishFails.Inc()
		delay := retry.next()
		rd.log.Warn("Kafka did not acknowledge the batch; retrying it", "shard", rd.current().ShardID,
			"records", len(records), "retry_in", delay, "error", err)
		rd.waitWork(delay)
	}
	return false
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
	rd.r.metrics.leasesLost.Inc()
	rd.log.Warn("lease lost; stopping the shard's reader", "shard", rd.current().ShardID, "error", err)
	rd.cancel(err)
}

// wait pauses for d, or less when the relay stops or the lease is lost.
func (rd *reader) wait(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-rd.stop.Done():
	case <-rd.work.Done():
	}
}

// waitWork pauses for d, or less when the lease is lost; a shutdown does not cut it short, so the in-flight
// page is still relayed and checkpointed.
func (rd *reader) waitWork(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
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
