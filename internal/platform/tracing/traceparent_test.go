package tracing_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/cqrses-aws/pipeline/internal/platform/tracing"
)

func TestParseFormatRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tp := range []string{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
	} {
		sc, ok := tracing.Parse(tp)
		if !ok || !sc.IsRemote() {
			t.Fatalf("Parse(%q) = %v, %v; want a remote span context", tp, sc, ok)
		}
		if got := tracing.Format(sc); got != tp {
			t.Errorf("Format(Parse(%q)) = %q", tp, got)
		}
		if got := tracing.TraceParent(tracing.ContextWithTraceParent(context.Background(), tp)); got != tp {
			t.Errorf("TraceParent(ContextWithTraceParent(%q)) = %q", tp, got)
		}
	}
}

func TestParseRefusesMalformed(t *testing.T) {
	t.Parallel()
	for name, tp := range map[string]string{
		"empty":             "",
		"short":             "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
		"upper case":        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
		"zero trace id":     "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"zero span id":      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"version ff":        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00 with a suffix":  "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz",
		"bad separator":     "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"not hex":           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
		"future no dash":    "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
		"injected newlines": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0\n",
	} {
		if sc, ok := tracing.Parse(tp); ok {
			t.Errorf("%s: Parse(%q) = %v, want refused", name, tp, sc)
		}
		ctx := context.Background()
		if got := tracing.ContextWithTraceParent(ctx, tp); got != ctx {
			t.Errorf("%s: ContextWithTraceParent changed the context", name)
		}
	}
}

func TestParseReadsFutureVersions(t *testing.T) {
	t.Parallel()
	sc, ok := tracing.Parse("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-adds")
	if !ok || sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || !sc.IsSampled() {
		t.Errorf("Parse of a future version = %v, %v; want its version-00 fields", sc, ok)
	}
}

func TestFormatInvalidIsEmpty(t *testing.T) {
	t.Parallel()
	if got := tracing.Format(trace.SpanContext{}); got != "" {
		t.Errorf("Format(zero) = %q, want empty", got)
	}
	if got := tracing.TraceParent(context.Background()); got != "" {
		t.Errorf("TraceParent(no span) = %q, want empty", got)
	}
}
