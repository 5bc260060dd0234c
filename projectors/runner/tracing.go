package runner

import (
	"context"
	"strconv"
	"time"

	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/tracing"
	"github.com/cqrses-aws/pipeline/projectors/projection"
)

// recordAt is where a record was read: topic, partition and offset.
type recordAt struct {
	topicPartition
	offset int64
}

// traceApplied records, when tracing is on, one "apply" span per applied event, from the batch's start to now
// (after its commit), in the projectors' tracer. Its parent is the trace context of the event's Kafka record
// (the relay's span), or for an event fetched from the journal to fill a gap, the one stored with the event.
// Events without a trace context get none: a replay of old events starts no traces. With tracing off it costs
// one atomic load per batch, which a replay of millions of events does not notice.
func (r *Runner) traceApplied(batch []decoded, applied []projection.Event, start time.Time) {
	if !tracing.Enabled() || len(applied) == 0 {
		return
	}
	parents := make(map[recordAt]string, len(batch))
	for _, d := range batch {
		if tp, ok := kafka.Header(d.rec, kafka.HeaderTraceParent); ok {
			parents[recordAt{topicPartition{d.rec.Topic, d.rec.Partition}, d.rec.Offset}] = tp
		}
	}
	tracer := tracing.Tracer(tracing.ScopeProjectors)
	group := projection.GroupID(r.cfg.Name, r.cfg.Version)
	end := time.Now()
	for _, ev := range applied {
		tp := ev.TraceParent
		if ev.Offset >= 0 {
			if h, ok := parents[recordAt{topicPartition{ev.Topic, ev.Partition}, ev.Offset}]; ok {
				tp = h
			}
		}
		ctx := tracing.ContextWithTraceParent(context.Background(), tp)
		if !trace.SpanContextFromContext(ctx).IsValid() {
			continue
		}
		_, span := tracer.Start(ctx, "apply "+r.cfg.Name, trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithTimestamp(start),
			trace.WithAttributes(
				tracing.AttrProjector.String(r.cfg.Name), tracing.AttrProjectorVersion.Int(r.cfg.Version),
				semconv.MessagingSystemKafka, semconv.MessagingOperationTypeProcess,
				semconv.MessagingOperationName("apply"), semconv.MessagingConsumerGroupName(group),
				semconv.MessagingDestinationName(ev.Topic),
				semconv.MessagingDestinationPartitionID(strconv.Itoa(int(ev.Partition))),
				semconv.MessagingKafkaOffset(int(ev.Offset)),
				tracing.AttrEventType.String(ev.Type), tracing.AttrAggregateID.String(ev.AggregateID),
				tracing.AttrSeq.Int64(ev.Seq),
			))
		span.End(trace.WithTimestamp(end))
	}
}
