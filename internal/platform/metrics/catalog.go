package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
)

// Catalog is the list of documented metrics (deploy/metrics.json): what each service's /metrics exposes, read
// by the runbook, the Grafana dashboard's test and the test that scrapes the running services.
type Catalog struct {
	// About says what the file is, for its human readers.
	About string `json:"about"`
	// CommonPrefixes start the names of the metrics every service exposes (http_, go_, …).
	CommonPrefixes []string `json:"common_prefixes"`
	// PartialPrefixes start the names of the runtime collectors' metrics (go_, process_), of which the catalog
	// documents only those worth watching; every other exposed metric must be documented.
	PartialPrefixes []string `json:"partial_prefixes"`
	// Services are the services, each with the prefix of its own metrics.
	Services []CatalogService `json:"services"`
	// Metrics are the documented metrics.
	Metrics []Documented `json:"metrics"`
}

// CatalogService is one service of the catalog and the prefix its own metrics' names start with.
type CatalogService struct {
	Name   string `json:"name"`
	Prefix string `json:"prefix"`
}

// Documented is one documented metric: its name, type (counter, gauge or histogram), label names, help text
// and the services exposing it.
type Documented struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Labels   []string `json:"labels"`
	Help     string   `json:"help"`
	Services []string `json:"services"`
}

// ReadCatalog reads and validates the catalog at path; it fails when the file is missing, is not exactly the
// catalog's JSON (unknown fields included) or breaks a naming convention (see Validate).
func ReadCatalog(path string) (Catalog, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Catalog{}, fmt.Errorf("read metrics catalog: %w", err)
	}
	return ParseCatalog(b)
}

// ParseCatalog decodes and validates a catalog; it fails like ReadCatalog.
func ParseCatalog(b []byte) (Catalog, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c Catalog
	if err := dec.Decode(&c); err != nil {
		return Catalog{}, fmt.Errorf("decode metrics catalog: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Catalog{}, fmt.Errorf("metrics catalog: %w", err)
	}
	return c, nil
}

var (
	snakeName  = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	unitSuffix = []string{"_seconds", "_bytes"}
	// reservedLabels are added by Prometheus itself (le, quantile) or by the scrape (job, instance).
	reservedLabels = []string{"le", "quantile", "job", "instance"}
	metricTypes    = []string{"counter", "gauge", "histogram"}
)

// Validate returns every convention the catalog breaks, joined: names in snake_case with the service's prefix
// (a common prefix for metrics of every service), counters and only counters ending in _total, histograms in
// a base unit (_seconds, _bytes), a help sentence, unique snake_case labels none of them reserved, known
// services, no name twice.
func (c Catalog) Validate() error {
	var errs []error
	prefixes := map[string]string{}
	for _, s := range c.Services {
		if s.Name == "" || !strings.HasSuffix(s.Prefix, "_") || !snakeName.MatchString(strings.TrimSuffix(s.Prefix, "_")) {
			errs = append(errs, fmt.Errorf("service %q: a name and a snake_case prefix ending in _ are required", s.Name))
		}
		if _, dup := prefixes[s.Name]; dup {
			errs = append(errs, fmt.Errorf("service %q listed twice", s.Name))
		}
		prefixes[s.Name] = s.Prefix
	}
	if len(prefixes) == 0 {
		errs = append(errs, errors.New("no services"))
	}
	seen := map[string]bool{}
	for _, m := range c.Metrics {
		if seen[m.Name] {
			errs = append(errs, fmt.Errorf("%s: documented twice", m.Name))
		}
		seen[m.Name] = true
		if err := c.validateMetric(m, prefixes); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", m.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (c Catalog) validateMetric(m Documented, prefixes map[string]string) error {
	var errs []error
	if !snakeName.MatchString(m.Name) {
		errs = append(errs, errors.New("not snake_case"))
	}
	if !slices.Contains(metricTypes, m.Type) {
		errs = append(errs, fmt.Errorf("type %q is none of %v", m.Type, metricTypes))
	}
	if total := strings.HasSuffix(m.Name, "_total"); total != (m.Type == "counter") {
		errs = append(errs, errors.New("counters, and only counters, end in _total"))
	}
	if m.Type == "histogram" && !slices.ContainsFunc(unitSuffix, func(u string) bool { return strings.HasSuffix(m.Name, u) }) {
		errs = append(errs, fmt.Errorf("a histogram ends in its base unit, one of %v", unitSuffix))
	}
	if !strings.HasSuffix(m.Help, ".") || len(m.Help) < 10 {
		errs = append(errs, errors.New("help must be a sentence ending in a period"))
	}
	labels := map[string]bool{}
	for _, l := range m.Labels {
		if !snakeName.MatchString(l) || slices.Contains(reservedLabels, l) || labels[l] {
			errs = append(errs, fmt.Errorf("label %q is not snake_case, is reserved or is repeated", l))
		}
		labels[l] = true
	}
	if len(m.Services) == 0 {
		errs = append(errs, errors.New("no service exposes it"))
	}
	for _, s := range m.Services {
		if _, ok := prefixes[s]; !ok {
			errs = append(errs, fmt.Errorf("unknown service %q", s))
		}
	}
	if err := c.checkPrefix(m, prefixes); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// checkPrefix requires a metric of every service to start with a common prefix and any other with the prefix
// of each service exposing it.
func (c Catalog) checkPrefix(m Documented, prefixes map[string]string) error {
	if len(m.Services) == len(prefixes) && len(prefixes) > 1 {
		if !slices.ContainsFunc(c.CommonPrefixes, func(p string) bool { return strings.HasPrefix(m.Name, p) }) {
			return fmt.Errorf("exposed by every service, so its name starts with one of %v", c.CommonPrefixes)
		}
		return nil
	}
	for _, s := range m.Services {
		if p, ok := prefixes[s]; ok && !strings.HasPrefix(m.Name, p) {
			return fmt.Errorf("exposed by %s, so its name starts with %q", s, p)
		}
	}
	return nil
}

// For returns the metrics service exposes, in catalog order.
func (c Catalog) For(service string) []Documented {
	var out []Documented
	for _, m := range c.Metrics {
		if slices.Contains(m.Services, service) {
			out = append(out, m)
		}
	}
	return out
}

// Names returns every documented metric name.
func (c Catalog) Names() []string {
	out := make([]string, len(c.Metrics))
	for i, m := range c.Metrics {
		out[i] = m.Name
	}
	return out
}
