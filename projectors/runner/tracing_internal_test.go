package runner

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/tracing"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/schemas"
)

// tracedBatch returns a batch of n applied events whose records carry a traceparent, as the relay sends them.
func tracedBatch(n int) ([]decoded, []projection.Event) {
	batch := make([]decoded, n)
	applied := make([]projection.Event, n)
	for i := range n {
		tp := fmt.Sprintf("00-4bf92f3577b34da6a3ce929d0e0e4736-%016x-01", i+1)
		rec := &kgo.Record{Topic: "chat.room.events", Partition: int32(i % 12), Offset: int64(i),
			Headers: []kgo.RecordHeader{{Key: kafka.HeaderTraceParent, Value: []byte(tp)}}}
		ev := projection.Event{Envelope: schemas.Envelope{AggregateID: fmt.Sprintf("room-%d", i), Seq: 1,
			Type: schemas.TypeMessagePosted}, Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset}
		batch[i], applied[i] = decoded{rec: rec, event: ev, aggregateID: ev.AggregateID}, ev
	}
	return batch, applied
}

// TestTraceAppliedOffCostsNothing: with tracing off (it is never turned on in this package's tests), a batch
// of 5,000 events allocates nothing for tracing. AllocsPerRun cannot run in a parallel test.
func TestTraceAppliedOffCostsNothing(t *testing.T) {
	r := &Runner{cfg: Config{Name: "views", Version: 1}}
	batch, applied := tracedBatch(5000)
	start := time.Now()
	if allocs := testing.AllocsPerRun(20, func() { r.traceApplied(batch, applied, start) }); allocs != 0 {
		t.Errorf("traceApplied with tracing off: %v allocations per batch, want 0", allocs)
	}
}

// BenchmarkTraceApplied measures the apply spans of a 5,000-event batch, with tracing off and on. Benchmarks
// run after the tests, so turning tracing on here changes no test.
func BenchmarkTraceApplied(b *testing.B) {
	r := &Runner{cfg: Config{Name: "views", Version: 1}}
	batch, applied := tracedBatch(5000)
	start := time.Now()
	b.Run("off", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r.traceApplied(batch, applied, start)
		}
	})
	b.Run("on", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()))
		defer tracing.Install(tp)()
		b.ReportAllocs()
		for b.Loop() {
			r.traceApplied(batch, applied, start)
		}
	})
}
