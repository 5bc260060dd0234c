package metrics

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// CheckExposition compares a scrape of service's /metrics (Prometheus text format) with the catalog and returns
// every difference, joined: a documented metric missing (no series at all), of another type or help, or with
// series whose label names are not the documented ones; an exposed metric the catalog does not document
// (beyond the runtime collectors' partial prefixes). It fails when the text does not parse.
func (c Catalog) CheckExposition(service string, text io.Reader) error {
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(text)
	if err != nil {
		return fmt.Errorf("parse %s metrics: %w", service, err)
	}
	var errs []error
	documented := map[string]bool{}
	for _, d := range c.For(service) {
		documented[d.Name] = true
		f, ok := families[d.Name]
		if !ok || len(f.GetMetric()) == 0 {
			errs = append(errs, fmt.Errorf("%s: %s is documented but not exposed", service, d.Name))
			continue
		}
		if got := strings.ToLower(f.GetType().String()); got != d.Type {
			errs = append(errs, fmt.Errorf("%s: %s is a %s, documented as a %s", service, d.Name, got, d.Type))
		}
		if f.GetHelp() != d.Help {
			errs = append(errs, fmt.Errorf("%s: %s help is %q, documented as %q", service, d.Name, f.GetHelp(), d.Help))
		}
		for _, m := range f.GetMetric() {
			if got := labelNames(m); !sameSet(got, d.Labels) {
				errs = append(errs, fmt.Errorf("%s: %s has a series labelled %v, documented labels %v", service, d.Name, got, d.Labels))
				break
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(families)) {
		partial := slices.ContainsFunc(c.PartialPrefixes, func(p string) bool { return strings.HasPrefix(name, p) })
		if !documented[name] && !partial {
			errs = append(errs, fmt.Errorf("%s: %s is exposed but not documented in the catalog", service, name))
		}
	}
	return errors.Join(errs...)
}

// labelNames returns the names of m's labels; the parser keeps a histogram's le in its buckets, not as a label.
func labelNames(m *dto.Metric) []string {
	out := make([]string, 0, len(m.GetLabel()))
	for _, l := range m.GetLabel() {
		out = append(out, l.GetName())
	}
	return out
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
