package eventgen

import (
	"context"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/schemas"
)

// Produce writes events to the event topics of prefix as the relay does (kafka.NewEventEncoder(prefix).Record:
// key = aggregate id, value = envelope JSON, CloudEvents headers), asynchronously and as fast as the client
// allows, and returns once every record is acknowledged, with the first error if any (records after it are not
// sent). Each aggregate's events keep their order when cl is an idempotent producer (franz-go's default) with
// the default partitioner, which is also the relay's.
//
// The caller chooses batching on cl. For bulk loads kgo.ProducerLinger(5*time.Millisecond),
// kgo.ProducerBatchMaxBytes(1<<20) and kgo.MaxBufferedRecords(100_000) work well; acks stay
// kgo.AllISRAcks() (the default) so that nothing is lost or reordered.
func Produce(ctx context.Context, cl *kgo.Client, prefix string, events []schemas.Envelope) error {
	i := 0
	return produce(ctx, cl, prefix, len(events), func() schemas.Envelope {
		i++
		return events[i-1]
	})
}

// ProduceN writes the next n events of g like Produce, generating them as it goes, so that memory stays
// bounded by the client's buffer (kgo.MaxBufferedRecords) whatever n is.
func ProduceN(ctx context.Context, cl *kgo.Client, prefix string, g *Generator, n int) error {
	return produce(ctx, cl, prefix, n, g.Next)
}

func produce(ctx context.Context, cl *kgo.Client, prefix string, n int, next func() schemas.Envelope) error {
	enc := kafka.NewEventEncoder(prefix)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = err
		}
	}
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return first != nil
	}
	for range n {
		if failed() {
			break
		}
		env := next()
		rec, err := enc.Record(env)
		if err != nil {
			fail(fmt.Errorf("encode %s seq %d of %s: %w", env.Type, env.Seq, env.AggregateID, err))
			break
		}
		wg.Add(1)
		// Produce blocks while the client's buffer is full, so this loop runs at Kafka's pace.
		cl.Produce(ctx, rec, func(r *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				seq, _ := kafka.Header(r, kafka.HeaderSeq)
				fail(fmt.Errorf("produce seq %s of %s to %s: %w", seq, r.Key, r.Topic, err))
			}
		})
	}
	wg.Wait()
	return first
}
