package forward

import (
	"context"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/tracing"
)

// publishSpans are the producer spans of one batch's records, in the records' order (nil for a record that
// has none).
type publishSpans struct {
	records []*kgo.Record
	spans   []trace.Span
}

// startPublishSpans starts, when tracing is on, one producer span per record that carries a trace context
// (the traceparent the writer stored with the event, in the record's header): the span is that context's
// child, and the header is rewritten to the span's own context so that the projectors' spans are its children.
// The relay continues traces and never starts one: an event stored without a trace context gets no span.
// With tracing off it returns at once, and a page of thousands of records costs one atomic load.
func startPublishSpans(records []*kgo.Record) publishSpans {
	if !tracing.Enabled() || len(records) == 0 {
		return publishSpans{}
	}
	tracer := tracing.Tracer(tracing.ScopeRelay)
	ps := publishSpans{records: records, spans: make([]trace.Span, len(records))}
	for i, r := range records {
		h := traceHeader(r)
		if h == nil {
			continue
		}
		ctx := tracing.ContextWithTraceParent(context.Background(), string(h.Value))
		if !trace.SpanContextFromContext(ctx).IsValid() {
			continue
		}
		eventType, _ := kafka.Header(r, kafka.HeaderType)
		header, _ := kafka.Header(r, kafka.HeaderSeq)
		seq, _ := strconv.ParseInt(header, 10, 64)
		_, span := tracer.Start(ctx, "send "+r.Topic, trace.WithSpanKind(trace.SpanKindProducer),
			trace.WithAttributes(
				semconv.MessagingSystemKafka, semconv.MessagingOperationTypeSend,
				semconv.MessagingOperationName("send"), semconv.MessagingDestinationName(r.Topic),
				semconv.MessagingKafkaMessageKey(string(r.Key)), tracing.AttrAggregateID.String(string(r.Key)),
				tracing.AttrEventType.String(eventType), tracing.AttrSeq.Int64(seq),
			))
		h.Value = []byte(tracing.Format(span.SpanContext()))
		ps.spans[i] = span
	}
	return ps
}

// traceHeader returns the record's traceparent header, nil when it has none.
func traceHeader(r *kgo.Record) *kgo.RecordHeader {
	for i := range r.Headers {
		if r.Headers[i].Key == kafka.HeaderTraceParent {
			return &r.Headers[i]
		}
	}
	return nil
}

// end ends the spans: acknowledged ones with the partition and offset Kafka gave their record, the others
// (the lease was lost, the relay stopped) as errors.
func (ps publishSpans) end(acked bool) {
	for i, span := range ps.spans {
		if span == nil {
			continue
		}
		if acked {
			r := ps.records[i]
			span.SetAttributes(semconv.MessagingDestinationPartitionID(strconv.Itoa(int(r.Partition))),
				semconv.MessagingKafkaOffset(int(r.Offset)))
		} else {
			span.SetStatus(codes.Error, "not acknowledged before the reader stopped")
		}
		span.End()
	}
}
