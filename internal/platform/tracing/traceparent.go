package tracing

import (
	"context"
	"encoding/hex"

	"go.opentelemetry.io/otel/trace"
)

// HeaderTraceParent is the W3C trace context header, as sent over HTTP and stored with the events.
const HeaderTraceParent = "traceparent"

// TraceParent returns the W3C traceparent of the span in ctx (recording or not, local or remote), or "" when
// ctx carries no valid span context.
func TraceParent(ctx context.Context) string {
	return Format(trace.SpanContextFromContext(ctx))
}

// Format returns sc as a W3C traceparent (version 00), or "" when sc is not valid.
func Format(sc trace.SpanContext) string {
	if !sc.IsValid() {
		return ""
	}
	var b [55]byte
	tid, sid := sc.TraceID(), sc.SpanID()
	copy(b[:], "00-")
	hex.Encode(b[3:35], tid[:])
	b[35] = '-'
	hex.Encode(b[36:52], sid[:])
	b[52] = '-'
	flags := [1]byte{byte(sc.TraceFlags())}
	hex.Encode(b[53:55], flags[:])
	return string(b[:])
}

// Parse reads a W3C traceparent into a remote span context; ok is false when tp is empty or malformed (any
// version is read by its version-00 fields, as the W3C recommends, except the invalid version ff).
func Parse(tp string) (sc trace.SpanContext, ok bool) {
	if len(tp) < 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-' || (len(tp) > 55 && tp[55] != '-') {
		return trace.SpanContext{}, false
	}
	var version, flags [1]byte
	if _, err := hex.Decode(version[:], []byte(tp[0:2])); err != nil || version[0] == 0xff || (version[0] == 0 && len(tp) != 55) {
		return trace.SpanContext{}, false
	}
	if !lowerHex(tp[0:2]) || !lowerHex(tp[3:35]) || !lowerHex(tp[36:52]) || !lowerHex(tp[53:55]) {
		return trace.SpanContext{}, false
	}
	tid, err := trace.TraceIDFromHex(tp[3:35])
	if err != nil {
		return trace.SpanContext{}, false
	}
	sid, err := trace.SpanIDFromHex(tp[36:52])
	if err != nil {
		return trace.SpanContext{}, false
	}
	if _, err := hex.Decode(flags[:], []byte(tp[53:55])); err != nil {
		return trace.SpanContext{}, false
	}
	sc = trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: trace.TraceFlags(flags[0]) & trace.FlagsSampled, Remote: true,
	})
	return sc, sc.IsValid()
}

// lowerHex reports whether s is lower-case hexadecimal only, as W3C trace context requires.
func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ContextWithTraceParent returns ctx with tp as its remote parent span context; ctx unchanged when tp is empty
// or malformed.
func ContextWithTraceParent(ctx context.Context, tp string) context.Context {
	sc, ok := Parse(tp)
	if !ok {
		return ctx
	}
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}
