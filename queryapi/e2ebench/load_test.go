package e2ebench

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// sample is one posted message and when each step of its way was seen.
type sample struct {
	room                 room
	word, bucket         string // its own search word, and its bucket's (bucketTicks consecutive ticks share it)
	message, consistency string
	version              int64     // the room's version after the post
	due, sent, answered  time.Time // the tick's due time; the command's request and response
	ryw                  rywRead   // what the reader with the consistency token saw
	// fresh and freshSearch are when the reader without a token first saw it in the views and in search; zero
	// when it had not by the end of the drain.
	fresh, freshSearch time.Time
}

// run is the outcome of one load phase.
type run struct {
	cfg     config
	senders int
	samples []*sample // the answered commands
	failed  []error   // the commands that failed
	late    lateTicks // ticks not handed to a sender within lateTolerance of their due time (not sent)
	start   time.Time // when tick 0 was due
	last    time.Time // the last command's response
	// unseenViews and unseenSearch are the messages the reader without a token had not seen when the drain
	// ended (drained: when it ended).
	unseenViews, unseenSearch int
	drained                   time.Time
	machine                   string // how busy the machine was during the load
}

// lateTicks counts the late ticks by why they were late: the scheduler woke up past the tolerance (this
// process starved of CPU), or every sender stayed busy (commands in flight for senderSpan on average).
type lateTicks struct {
	starved, busy int
}

// total returns the late ticks.
func (l lateTicks) total() int { return l.starved + l.busy }

// tick is one command due: the i-th of the run, due at start + i/rate.
type tick struct {
	i   int
	due time.Time
}

// load sends cfg.ticks() PostMessage commands on an open-loop schedule: tick i is due at start + i/rate and is
// handed to whichever of the senders (one per room, each posting as its room's owner) is free; a tick that
// no sender takes within lateTolerance of its due time is late and is not sent. For each answered command it
// asks the query API with the command's consistency token for the room's messages and for the message's
// word, and has the reader without a token look for it until it sees it. It returns when every question is
// answered, the reader saw every message or the drain ended, and this benchmark's consumer read every message
// from Kafka (else it fails the benchmark).
func (p *pipeline) load(b *testing.B, cfg config, rooms []room, fresh *freshness, records *kafkaRecords) *run {
	b.Helper()
	var (
		ticks    = make(chan tick) // unbuffered: a tick is handed over only to a sender that is free
		out      = &run{cfg: cfg, senders: len(rooms)}
		mu       sync.Mutex
		senders  sync.WaitGroup
		checkers sync.WaitGroup
		buckets  = randomHex(4)
	)
	for _, r := range rooms {
		senders.Go(func() {
			for t := range ticks {
				s := &sample{room: r, word: "w" + randomHex(8), bucket: fmt.Sprintf("b%s%05d", buckets, t.i/bucketTicks),
					due: t.due, sent: time.Now()}
				c, at, err := p.command(r.token, "/v1/rooms/"+r.id+"/messages",
					map[string]string{"text": "benchmark message " + s.word + " " + s.bucket + " for the pipeline"})
				mu.Lock()
				if err != nil {
					out.failed = append(out.failed, fmt.Errorf("tick %d: %w", t.i, err))
					mu.Unlock()
					continue
				}
				s.message, s.consistency, s.version, s.answered = c.MessageID, c.ConsistencyToken, c.Version, at
				out.samples = append(out.samples, s)
				out.last = at
				mu.Unlock()
				records.expect(s.message)
				fresh.watch(s)
				checkers.Go(func() { p.checkViews(s) })
				checkers.Go(func() { p.checkSearch(s) })
			}
		})
	}
	cpu := sampleCPU()
	out.start = time.Now()
	out.late = schedule(cfg, out.start, ticks)
	close(ticks)
	senders.Wait()
	out.machine = cpu.until(sampleCPU())
	drainEnd := time.Now().Add(drainFor)
	b.Logf("load done: %d of %d ticks late, %d commands failed, %d answered", out.late.total(), cfg.ticks(),
		len(out.failed), len(out.samples))
	checkers.Wait() // within the client's timeout
	out.unseenViews, out.unseenSearch = fresh.drain(drainEnd)
	out.drained = time.Now()
	// The visible messages went through Kafka; the benchmark's consumer may still be behind the projectors.
	if left := records.caughtUp(30 * time.Second); left > 0 {
		b.Fatalf("the benchmark's consumer did not read %d posted messages from Kafka within 30s", left)
	}
	return out
}

// schedule hands cfg.ticks() ticks to ticks, each at its due time after start, and returns how many were late:
// not taken by a free sender within lateTolerance of their due time. A late tick is dropped, not queued: the
// schedule never slows down to what the system achieves (an open loop).
func schedule(cfg config, start time.Time, ticks chan<- tick) (late lateTicks) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for i := range cfg.ticks() {
		t := tick{i: i, due: cfg.due(start, i)}
		// The schedule's pacing: wait for the tick's due time.
		if d := time.Until(t.due); d > 0 {
			timer.Reset(d)
			<-timer.C
		}
		// A tick is late when the scheduler itself wakes up too late (a starved process), or when every sender
		// stays busy until the tolerance runs out.
		d := time.Until(t.due.Add(lateTolerance))
		if d <= 0 {
			late.starved++
			continue
		}
		timer.Reset(d)
		select {
		case ticks <- t:
			timer.Stop()
		case <-timer.C:
			late.busy++
		}
	}
	return late
}

// rate returns the commands answered per second from the first tick's due time to the last answer, or to the
// schedule's end if that is later (the last commands may have failed).
func (r *run) rate() float64 {
	if len(r.samples) == 0 {
		return 0
	}
	return float64(len(r.samples)) / max(r.last.Sub(r.start), r.cfg.duration).Seconds()
}

// durations returns f of every sample whose f is known (ok).
func (r *run) durations(f func(s *sample) (time.Duration, bool)) []time.Duration {
	var d []time.Duration
	for _, s := range r.samples {
		if v, ok := f(s); ok {
			d = append(d, v)
		}
	}
	return d
}
