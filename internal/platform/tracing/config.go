package tracing

import (
	"errors"
	"fmt"
)

// The exporters Config.Exporter names.
const (
	// ExporterNone records no spans: the default, so a local process pays nothing for tracing.
	ExporterNone = "none"
	// ExporterOTLP sends spans over OTLP/HTTP to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
	// OTEL_EXPORTER_OTLP_ENDPOINT (default http://localhost:4318), read by the exporter itself.
	ExporterOTLP = "otlp"
)

// Config chooses whether and where a service exports its spans; the names are OpenTelemetry's standard
// environment variables.
type Config struct {
	// Exporter is none (the default: no spans recorded; empty means the same) or otlp.
	Exporter string `env:"OTEL_TRACES_EXPORTER" envDefault:"none"`
	// ServiceName is the service.name resource attribute; empty means the service's own name.
	ServiceName string `env:"OTEL_SERVICE_NAME"`
	// SampleRatio is the share of new traces recorded (parentbased_traceidratio): a trace continued from a
	// caller follows the caller's decision.
	SampleRatio float64 `env:"OTEL_TRACES_SAMPLER_ARG" envDefault:"1"`
}

// Validate returns every problem joined, each naming its environment variable.
func (c Config) Validate() error {
	var errs []error
	switch c.Exporter {
	case "", ExporterNone, ExporterOTLP:
	default:
		errs = append(errs, fmt.Errorf("OTEL_TRACES_EXPORTER %q: want %s or %s", c.Exporter, ExporterNone, ExporterOTLP))
	}
	if c.SampleRatio < 0 || c.SampleRatio > 1 {
		errs = append(errs, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG %v: want a ratio from 0 to 1", c.SampleRatio))
	}
	return errors.Join(errs...)
}

// Enabled reports whether the configuration records spans.
func (c Config) Enabled() bool { return c.Exporter != "" && c.Exporter != ExporterNone }
