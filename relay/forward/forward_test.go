package forward

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/eventstore/eventstoretest"
	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/relay/lease/leasetest"
	"github.com/cqrses-aws/pipeline/relay/relaytest"
	"github.com/cqrses-aws/pipeline/relay/stream"
	"github.com/cqrses-aws/pipeline/relay/stream/streamtest"
)

const fakeARN = streamtest.ARN

// TestRelaysEveryEventInOrder writes 10,000 events of 200 rooms into a real journal table while the relay reads
// its stream: every event reaches Kafka, each room on one partition, its seqs first seen in order.
func TestRelaysEveryEventInOrder(t *testing.T) {
	t.Parallel()
	const rooms, perRoom = 200, 50
	journal := eventstoretest.NewDynamoDBFixture(t, nil)
	f := newFixture(t, 12)
	r := f.relay(stream.NewDynamoDB(journal.AWS.DynamoDB, journal.AWS.Streams), nil, func(c *Config) {
		c.Table = journal.Tables.Journal
	})
	start(t, r)
	events := relaytest.Interleaved(rooms, perRoom)
	journal.Seed(t, events)

	p := relaytest.Consume(t, f.prefix, rooms*perRoom, 3*time.Minute)
	relaytest.CheckOrder(t, p, rooms, perRoom)
	t.Logf("%d events relayed, %d duplicates", p.Total(), p.Duplicates())

	first := p.Records[0]
	want := relaytest.Event(first.Aggregate, first.Seq)
	for key, value := range map[string]string{
		kafka.HeaderID: want.EventID, kafka.HeaderType: want.Type, kafka.HeaderSubject: want.AggregateID,
		kafka.HeaderSource: "/" + f.prefix + "/room", kafka.HeaderSpecVersion: "1.0",
		kafka.HeaderSeq: fmt.Sprint(want.Seq), kafka.HeaderTraceParent: want.TraceParent,
		kafka.HeaderContentType: "application/json",
	} {
		if got := first.Headers[key]; got != value {
			t.Errorf("header %s = %q, want %q", key, got, value)
		}
	}
	if _, err := time.Parse(time.RFC3339Nano, first.Headers[kafka.HeaderTime]); err != nil {
		t.Errorf("header ce_time = %q: %v", first.Headers[kafka.HeaderTime], err)
	}
}

// fakeWithShards returns a fake stream with shards shard-0 … shard-(n-1), each holding perShard events of its
// own 5 rooms, and the events' room count.
func fakeWithShards(n, perShard int) (*streamtest.Fake, int) {
	fake := streamtest.New(fakeARN, 50)
	for i := range n {
		fake.AddShard(fmt.Sprintf("shard-%d", i), "")
	}
	appendRounds(fake, n, 1, perShard/5)
	return fake, 5 * n
}

// appendRounds appends seqs from..from+rounds-1 of every room; room r lives on shard r/5.
func appendRounds(fake *streamtest.Fake, shards int, from, rounds int) {
	for seq := from; seq < from+rounds; seq++ {
		for room := range 5 * shards {
			fake.Append(fmt.Sprintf("shard-%d", room/5), eventstore.JournalItem(relaytest.Event(relaytest.RoomID(room), int64(seq))))
		}
	}
}

// TestTwoInstancesShareShards runs two relays on one six-shard stream: they split the shards evenly, each shard
// is read by its lease holder only, and when one stops the other takes its shards and relays on.
func TestTwoInstancesShareShards(t *testing.T) {
	t.Parallel()
	const shards = 6
	fake, rooms := fakeWithShards(shards, 50)
	f := newFixture(t, 6)
	a := f.relay(fake.As("a"), nil, func(c *Config) { c.Owner = "a" })
	b := f.relay(fake.As("b"), nil, func(c *Config) { c.Owner = "b" })
	runA := start(t, a)
	start(t, b)

	relaytest.Eventually(t, 30*time.Second, "each instance reads three shards", func() bool {
		return len(a.Owned()) == 3 && len(b.Owned()) == 3
	})
	owner := map[string]string{}
	for name, r := range map[string]*Relay{"a": a, "b": b} {
		for _, s := range r.Owned() {
			if other, ok := owner[s]; ok {
				t.Fatalf("shard %s read by %s and %s", s, other, name)
			}
			owner[s] = name
			if l := f.leaseOf(fakeARN, s); l.Owner != name {
				t.Errorf("lease of %s held by %q, but %s reads it", s, l.Owner, name)
			}
		}
	}
	relaytest.Consume(t, f.prefix, rooms*10, time.Minute)

	// From now on, every page read must be read by the shard's owner.
	from := len(fake.Reads())
	appendRounds(fake, shards, 11, 10)
	relaytest.Consume(t, f.prefix, rooms*20, time.Minute)
	for _, r := range fake.Reads()[from:] {
		if r.Records > 0 && owner[r.Shard] != r.Reader {
			t.Errorf("shard %s (owned by %s) read by %s", r.Shard, owner[r.Shard], r.Reader)
		}
	}

	if err := runA.stop(t); err != nil {
		t.Fatalf("stop a: %v", err)
	}
	relaytest.Eventually(t, 30*time.Second, "b reads all six shards", func() bool { return len(b.Owned()) == shards })
	appendRounds(fake, shards, 21, 10)
	p := relaytest.Consume(t, f.prefix, rooms*30, time.Minute)
	relaytest.CheckOrder(t, p, rooms, 30)
	t.Logf("%d events, %d duplicates", p.Total(), p.Duplicates())
}

// TestShardSplitReadsParentsFirst relays a stream whose shard split twice before the relay started: the
// children are read only once their parent is read to its end and checkpointed, so each room's order holds.
func TestShardSplitReadsParentsFirst(t *testing.T) {
	t.Parallel()
	fake := streamtest.New(fakeARN, 7)
	fake.AddShard("p", "")
	put := func(shard string, rooms []int, from, to int) {
		for seq := from; seq <= to; seq++ {
			for _, room := range rooms {
				fake.Append(shard, eventstore.JournalItem(relaytest.Event(relaytest.RoomID(room), int64(seq))))
			}
		}
	}
	all, low, high := []int{0, 1, 2, 3, 4, 5}, []int{0, 1, 2}, []int{3, 4, 5}
	put("p", all, 1, 20)
	fake.Split("p", "c1", "c2")
	put("c1", low, 21, 40)
	put("c2", high, 21, 30)
	fake.Split("c1", "g1")
	put("g1", low, 41, 50)
	put("c2", high, 31, 50)

	f := newFixture(t, 3)
	start(t, f.relay(fake.As("r"), nil, nil))
	p := relaytest.Consume(t, f.prefix, 6*50, time.Minute)
	relaytest.CheckOrder(t, p, 6, 50)

	reads := fake.Reads()
	lastRead := map[string]int{}
	firstRead := map[string]int{}
	for i, r := range reads {
		if _, ok := firstRead[r.Shard]; !ok {
			firstRead[r.Shard] = i
		}
		lastRead[r.Shard] = i
	}
	for child, parent := range map[string]string{"c1": "p", "c2": "p", "g1": "c1"} {
		if firstRead[child] < lastRead[parent] {
			t.Errorf("%s read (page %d) before its parent %s was done (page %d)", child, firstRead[child], parent, lastRead[parent])
		}
	}
	relaytest.Eventually(t, 10*time.Second, "p and c1 are finished", func() bool {
		return f.leaseOf(fakeARN, "p").Finished && f.leaseOf(fakeARN, "c1").Finished
	})

	// A day later the parent is gone from the stream: its lease is deleted, its children read on.
	fake.Remove("p")
	relaytest.Eventually(t, 10*time.Second, "the lease of the removed parent is deleted", func() bool {
		return f.leaseOf(fakeARN, "p").ShardID == ""
	})
	put("g1", low, 51, 60)
	p = relaytest.Consume(t, f.prefix, 6*50+3*10, time.Minute)
	if n := len(p.Events[relaytest.RoomID(0)]); n != 60 {
		t.Errorf("room-0 has %d events after the parent left the stream, want 60", n)
	}
}

// TestStreamFaults injects the faults of the stream API the local server never shows: each time the relay
// recovers and relays every event in order, and counts the fault.
func TestStreamFaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		inject func(*streamtest.Fake)
		kind   string
	}{
		{"iterators expire", func(f *streamtest.Fake) { f.ExpireEvery(3) }, "expired"},
		{"throttled", func(f *streamtest.Fake) { f.Throttle(6) }, "throttled"},
		{"connection failures", func(f *streamtest.Fake) { f.Fail(4) }, "other"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake, rooms := fakeWithShards(2, 100)
			f := newFixture(t, 3)
			r := f.relay(fake.As("r"), nil, nil)
			start(t, r)
			// The faults hit the readers mid-stream, between pages of records already appended and new ones.
			relaytest.Consume(t, f.prefix, 10, time.Minute)
			tc.inject(fake)
			appendRounds(fake, 2, 21, 10)
			p := relaytest.Consume(t, f.prefix, rooms*30, time.Minute)
			relaytest.CheckOrder(t, p, rooms, 30)
			if n := testutil.ToFloat64(r.metrics.streamErrors.WithLabelValues(tc.kind)); n < 1 {
				t.Errorf("relay_stream_errors_total{kind=%q} = %v, want the fault counted", tc.kind, n)
			}
		})
	}
}

// TestTrimmedDataIsReported starts a relay at a checkpoint whose following records were trimmed: it reports
// the loss (error log, relay_trimmed_total) and relays every record still in the stream, in order.
func TestTrimmedDataIsReported(t *testing.T) {
	t.Parallel()
	fake := streamtest.New(fakeARN, 20)
	fake.AddShard("s", "")
	fake.Append("s", relaytest.Items(relaytest.Interleaved(5, 40))...) // 200 records
	f := newFixture(t, 3)
	// A previous relay checkpointed record 50; records up to 120 were trimmed since.
	leasetest.Checkpointed(t, f.leases, fakeARN, "s", fmt.Sprintf("%021d", 50))
	fake.Trim("s", 120)

	r := f.relay(fake.As("r"), nil, nil)
	start(t, r)
	p := relaytest.Consume(t, f.prefix, 80, time.Minute)
	for _, s := range p.Records {
		if s.Seq <= 24 { // records 1..120 are seqs 1..24 of the five rooms
			t.Fatalf("relayed %s seq %d, which was trimmed", s.Aggregate, s.Seq)
		}
	}
	if n := testutil.ToFloat64(r.metrics.trimmed); n != 1 {
		t.Errorf("relay_trimmed_total = %v, want 1", n)
	}
	relaytest.Eventually(t, 10*time.Second, "the checkpoint reaches the last record", func() bool {
		return f.leaseOf(fakeARN, "s").Checkpoint == fmt.Sprintf("%021d", 200)
	})
}

// TestVanishedShardIsReportedAndFinished removes a shard from the stream while it is read far behind (its
// records past the retention): the relay reports the loss, finishes the shard and reads its child.
func TestVanishedShardIsReportedAndFinished(t *testing.T) {
	t.Parallel()
	fake := streamtest.New(fakeARN, 10)
	fake.AddShard("old", "")
	fake.Append("old", relaytest.Items(relaytest.Interleaved(2, 50))...) // ten pages: more than read ahead
	fake.Split("old", "new")
	fake.Append("new", relaytest.Items(relaytest.Interleaved(2, 10))[:2]...) // seq 1 of both rooms, again
	f := newFixture(t, 3)
	// Slow the first publish so that the shard leaves the stream while its reader is in the middle of it.
	pub := &hookPublisher{Publisher: f.pub, hook: func() { fake.Remove("old") }}
	r := f.relay(fake.As("r"), pub, nil)
	start(t, r)
	relaytest.Eventually(t, 30*time.Second, "the child is read after the parent vanished", func() bool {
		for _, rd := range fake.Reads() {
			if rd.Shard == "new" && rd.Records > 0 {
				return true
			}
		}
		return false
	})
	relaytest.Eventually(t, 30*time.Second, "the vanished shard's lease is finished and deleted", func() bool {
		return f.leaseOf(fakeARN, "old").ShardID == ""
	})
	if n := testutil.ToFloat64(r.metrics.streamErrors.WithLabelValues("gone")); n != 1 {
		t.Errorf("relay_stream_errors_total{kind=gone} = %v, want 1", n)
	}
	if n := testutil.ToFloat64(r.metrics.trimmed); n != 1 {
		t.Errorf("relay_trimmed_total = %v, want 1", n)
	}
}

// flakyPublisher fails its first failures calls, as an unreachable Kafka does, then publishes.
type flakyPublisher struct {
	Publisher
	failures atomic.Int32
}

func (p *flakyPublisher) Send(ctx context.Context, records []*kgo.Record, done func(error)) {
	if p.failures.Add(-1) >= 0 {
		done(errors.New("injected: kafka unreachable"))
		return
	}
	p.Publisher.Send(ctx, records, done)
}

// TestKafkaUnavailableForAWhile fails the first publishes: the relay retries each batch, never checkpoints an
// unacknowledged one, and relays every event in order.
func TestKafkaUnavailableForAWhile(t *testing.T) {
	t.Parallel()
	fake, rooms := fakeWithShards(2, 100)
	f := newFixture(t, 3)
	pub := &flakyPublisher{Publisher: f.pub}
	pub.failures.Store(5)
	r := f.relay(fake.As("r"), pub, nil)
	start(t, r)
	p := relaytest.Consume(t, f.prefix, rooms*20, time.Minute)
	relaytest.CheckOrder(t, p, rooms, 20)
	if n := testutil.ToFloat64(r.metrics.publishFails); n != 5 {
		t.Errorf("relay_publish_failures_total = %v, want 5", n)
	}
}

// hookPublisher runs hook before its first publish.
type hookPublisher struct {
	Publisher
	once sync.Once
	hook func()
}

func (p *hookPublisher) Send(ctx context.Context, records []*kgo.Record, done func(error)) {
	p.once.Do(p.hook)
	p.Publisher.Send(ctx, records, done)
}

// TestLeaseLostMidBatchStopsBeforeCheckpoint has another instance take the lease while the first batch is being
// published: the reader stops without checkpointing, and the shard stays with the new owner.
func TestLeaseLostMidBatchStopsBeforeCheckpoint(t *testing.T) {
	t.Parallel()
	fake, _ := fakeWithShards(1, 100)
	f := newFixture(t, 3)
	pub := &hookPublisher{Publisher: f.pub, hook: func() {
		seen := f.leaseOf(fakeARN, "shard-0")
		if _, err := f.leases.Take(context.Background(), fakeARN, "shard-0", "", "thief", time.Hour, &seen); err != nil {
			t.Errorf("thief's take: %v", err)
		}
	}}
	r := f.relay(fake.As("r"), pub, nil)
	start(t, r)
	relaytest.Eventually(t, 30*time.Second, "the lease loss is noticed", func() bool {
		return testutil.ToFloat64(r.metrics.leasesLost) == 1 && len(r.Owned()) == 0
	})
	l := f.leaseOf(fakeARN, "shard-0")
	if l.Owner != "thief" || l.Checkpoint != "" {
		t.Errorf("lease = %+v, want the thief's, with no checkpoint", l)
	}
}

// blockingPublisher holds its first publish until released, telling when it started and its size.
type blockingPublisher struct {
	Publisher
	once     sync.Once
	first    int
	started  chan struct{}
	released chan struct{}
}

func (p *blockingPublisher) Send(ctx context.Context, records []*kgo.Record, done func(error)) {
	p.once.Do(func() {
		p.first = len(records)
		close(p.started)
		<-p.released
	})
	p.Publisher.Send(ctx, records, done)
}

// TestShutdownFinishesTheInFlightBatch stops the relay while a batch is being published: Run waits for it,
// checkpoints it and releases the lease.
func TestShutdownFinishesTheInFlightBatch(t *testing.T) {
	t.Parallel()
	fake, _ := fakeWithShards(1, 400) // eight pages of 50; the batch in flight holds up to 1+readAhead of them
	f := newFixture(t, 3)
	pub := &blockingPublisher{Publisher: f.pub, started: make(chan struct{}), released: make(chan struct{})}
	r := f.relay(fake.As("r"), pub, nil)
	run := start(t, r)
	select {
	case <-pub.started:
	case <-time.After(30 * time.Second):
		t.Fatal("no publish within 30s")
	}
	// The relay is told to stop before the batch is released, so that nothing is sent after it.
	run.cancel()
	close(pub.released)
	if err := run.stop(t); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if pub.first >= 400 {
		t.Fatalf("the first batch held all %d events: nothing was left to stop", pub.first)
	}
	l := f.leaseOf(fakeARN, "shard-0")
	if l.Checkpoint != fmt.Sprintf("%021d", pub.first) || l.Owner != "" {
		t.Errorf("lease after shutdown = %+v, want checkpoint %d (the batch in flight) and no owner", l, pub.first)
	}
	if p := relaytest.Consume(t, f.prefix, pub.first, 30*time.Second); p.Total() != pub.first {
		t.Errorf("%d events on Kafka, want the batch's %d", p.Total(), pub.first)
	}
}

// TestUnpublishableEventStopsTheRelay feeds an item of an aggregate type without a topic: the relay stops with
// an error naming it, and checkpoints nothing past it.
func TestUnpublishableEventStopsTheRelay(t *testing.T) {
	t.Parallel()
	fake := streamtest.New(fakeARN, 10)
	fake.AddShard("s", "")
	bad := relaytest.Event("planet-1", 1)
	bad.AggregateType = "planet"
	fake.Append("s", eventstore.JournalItem(relaytest.Event("room-1", 1)), eventstore.JournalItem(bad))
	f := newFixture(t, 1)
	run := start(t, f.relay(fake.As("r"), nil, nil))
	select {
	case err := <-run.done:
		run.over, run.err = true, err
		if !errors.Is(err, errFatal) || !strings.Contains(err.Error(), "planet") {
			t.Fatalf("Run = %v, want a fatal error naming the aggregate type", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the relay did not stop")
	}
	if l := f.leaseOf(fakeARN, "s"); l.Checkpoint != "" {
		t.Errorf("checkpoint = %q, want none", l.Checkpoint)
	}
}

// TestClosedShardFinishesAtItsLastRecord closes a shard of many pages, so that several batches are in flight
// when its end is sent: the positions acknowledged after that are left to the finish write, which records the
// shard finished at its last record, and every event is on Kafka in order.
func TestClosedShardFinishesAtItsLastRecord(t *testing.T) {
	t.Parallel()
	fake, rooms := fakeWithShards(1, 2000) // 2,000 records in pages of 50
	fake.Split("shard-0")
	f := newFixture(t, 3)
	start(t, f.relay(fake.As("r"), nil, nil))
	relaytest.Eventually(t, time.Minute, "shard-0 is finished", func() bool {
		return f.leaseOf(fakeARN, "shard-0").Finished
	})
	if l := f.leaseOf(fakeARN, "shard-0"); l.Checkpoint != fmt.Sprintf("%021d", 2000) {
		t.Errorf("finished lease = %+v, want checkpoint %021d (the last record)", l, 2000)
	}
	p := relaytest.Consume(t, f.prefix, 2000, time.Minute)
	relaytest.CheckOrder(t, p, rooms, 400)
}
