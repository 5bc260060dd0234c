package adapters

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/platform/tracing"
)

// TracedStore is an eventstore.Store whose appends, entity reads and snapshot saves are spans of the command's
// trace (in the writer's tracer). Appends are "journal append" spans, and the events are stored with that
// span's traceparent, so the relay's span for each of them is its child. With tracing off it adds nothing but
// the Enabled check, and the events keep the traceparent the command gave them.
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
	ctx, span := startStoreSpan(ctx, "journal append", "TransactWriteItems",
		tracing.AttrAggregateType.String(first.AggregateType), tracing.AttrAggregateID.String(req.AggregateID),
		tracing.AttrSeqFirst.Int64(first.Seq), tracing.AttrSeqLast.Int64(last.Seq),
		tracing.AttrEventCount.Int(len(req.Events)),
	)
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
	recordStoreError(span, err, "append failed")
	return err
}

// Entity implements eventstore.Store as an "entity read" span; it returns the wrapped store's answer, whose
// error the span records.
func (s TracedStore) Entity(ctx context.Context, key string) (map[string]string, error) {
	if !tracing.Enabled() {
		return s.Store.Entity(ctx, key)
	}
	ctx, span := startStoreSpan(ctx, "entity read", "GetItem")
	defer span.End()
	attrs, err := s.Store.Entity(ctx, key)
	recordStoreError(span, err, "entity read failed")
	return attrs, err
}

// SaveSnapshot implements eventstore.Store as a "snapshot save" span; it returns the wrapped store's error,
// which the span records.
func (s TracedStore) SaveSnapshot(ctx context.Context, snap eventstore.Snapshot) error {
	if !tracing.Enabled() {
		return s.Store.SaveSnapshot(ctx, snap)
	}
	ctx, span := startStoreSpan(ctx, "snapshot save", "PutItem",
		tracing.AttrAggregateID.String(snap.AggregateID), tracing.AttrSeq.Int64(snap.Seq))
	defer span.End()
	err := s.Store.SaveSnapshot(ctx, snap)
	recordStoreError(span, err, "snapshot save failed")
	return err
}

// startStoreSpan starts a client span of the writer's tracer for one DynamoDB operation.
func startStoreSpan(ctx context.Context, name, operation string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return tracing.Tracer(tracing.ScopeWriter).Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.DBSystemNameAWSDynamoDB, semconv.DBOperationName(operation)),
		trace.WithAttributes(attrs...))
}

// recordStoreError marks span as failed with err, if any.
func recordStoreError(span trace.Span, err error, status string) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, status)
	}
}
