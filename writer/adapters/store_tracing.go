package adapters

import (
	"context"

	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/platform/tracing"
)

// TracedStore is an eventstore.Store whose appends are spans of the command's trace ("journal append", in the
// writer's tracer): the events are stored with that span's traceparent, so the relay's span for each of them
// is its child. With tracing off it adds nothing but the Enabled check, and the events keep the traceparent
// the command gave them.
type TracedStore struct {
	eventstore.Store
}

var _ eventstore.Store = TracedStore{}

// Append implements eventstore.Store; it returns the wrapped store's error, which the span records.
func (s TracedStore) Append(ctx context.Context, req eventstore.AppendRequest) error {
	if !tracing.Enabled() || len(req.Events) == 0 {
		return s.Store.Append(ctx, req)
	}
	first, last := req.Events[0], req.Events[len(req.Events)-1]
	ctx, span := tracing.Tracer(tracing.ScopeWriter).Start(ctx, "journal append",
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			semconv.DBSystemNameAWSDynamoDB, semconv.DBOperationName("TransactWriteItems"),
			tracing.AttrAggregateType.String(first.AggregateType), tracing.AttrAggregateID.String(req.AggregateID),
			tracing.AttrSeqFirst.Int64(first.Seq), tracing.AttrSeqLast.Int64(last.Seq),
			tracing.AttrEventCount.Int(len(req.Events)),
		))
	defer span.End()
	// The request's events are the caller's; the stamped copies go to the store.
	tp := tracing.Format(span.SpanContext())
	events := make([]eventstore.Record, len(req.Events))
	for i, ev := range req.Events {
		ev.TraceParent = tp
		events[i] = ev
	}
	req.Events = events
	err := s.Store.Append(ctx, req)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "append failed")
	}
	return err
}
