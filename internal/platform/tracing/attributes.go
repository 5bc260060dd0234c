package tracing

import "go.opentelemetry.io/otel/attribute"

// The pipeline's own span attributes, beside OpenTelemetry's semantic conventions.
const (
	// AttrAggregateType is the aggregate type of the events a span handles, e.g. room.
	AttrAggregateType = attribute.Key("pipeline.aggregate.type")
	// AttrAggregateID is the aggregate id.
	AttrAggregateID = attribute.Key("pipeline.aggregate.id")
	// AttrSeq is the aggregate seq of the one event a span handles.
	AttrSeq = attribute.Key("pipeline.event.seq")
	// AttrSeqFirst and AttrSeqLast bound the seqs of the events an append writes.
	AttrSeqFirst = attribute.Key("pipeline.event.seq_first")
	AttrSeqLast  = attribute.Key("pipeline.event.seq_last")
	// AttrEventCount is how many events a span handles.
	AttrEventCount = attribute.Key("pipeline.event.count")
	// AttrEventType is the event type, e.g. MessagePosted.
	AttrEventType = attribute.Key("pipeline.event.type")
	// AttrEventID is the event's id.
	AttrEventID = attribute.Key("pipeline.event.id")
	// AttrProjector and AttrProjectorVersion name the projection version that applies an event.
	AttrProjector        = attribute.Key("pipeline.projector")
	AttrProjectorVersion = attribute.Key("pipeline.projector.version")
)
