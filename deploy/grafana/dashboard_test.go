// Package grafana_test checks the Grafana dashboard of the pipeline (pipeline.json) against the documented
// metrics (deploy/metrics.json): a panel that queries a metric no service exposes shows nothing, silently.
package grafana_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/platform/metrics"
)

// dashboard is the part of Grafana's dashboard model the test reads.
type dashboard struct {
	Title      string `json:"title"`
	UID        string `json:"uid"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type variable struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Query any    `json:"query"`
}

type panel struct {
	Title      string `json:"title"`
	Type       string `json:"type"`
	Datasource *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile("pipeline.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("pipeline.json: %v", err)
	}
	return d
}

// allPanels returns the panels, those inside collapsed rows included.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// queries returns every PromQL expression of d by where it is: panel targets and query variables.
func queries(t *testing.T, d dashboard) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, p := range allPanels(d.Panels) {
		for _, tg := range p.Targets {
			out["panel "+p.Title] = append(out["panel "+p.Title], tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q := v.Query
		if m, ok := q.(map[string]any); ok {
			q = m["query"]
		}
		s, ok := q.(string)
		if !ok {
			t.Errorf("variable %s: query %v is not PromQL text", v.Name, v.Query)
			continue
		}
		out["variable "+v.Name] = append(out["variable "+v.Name], s)
	}
	return out
}

func TestDashboardQueriesOnlyDocumentedMetrics(t *testing.T) {
	t.Parallel()
	catalog, err := metrics.ReadCatalog("../metrics.json")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{} // name → type
	for _, m := range catalog.Metrics {
		documented[m.Name] = m.Type
	}
	used := map[string]bool{}
	for where, exprs := range queries(t, readDashboard(t)) {
		for _, expr := range exprs {
			names := metricNames(expr)
			if len(names) == 0 {
				t.Errorf("%s: %q queries no metric", where, expr)
			}
			for _, n := range names {
				base, ok := resolve(n, documented)
				if !ok {
					t.Errorf("%s: %q queries %s, which deploy/metrics.json does not document", where, expr, n)
				}
				used[base] = true
			}
		}
	}
	// The panels the issue asks for, by the metric each one needs.
	for _, need := range []string{
		"http_requests_total", "http_request_duration_seconds", "relay_stream_record_age_seconds",
		"relay_records_total", "projector_lag_records", "projector_dlq_total", "queryapi_consistency_wait_seconds",
	} {
		if !used[need] {
			t.Errorf("no panel queries %s", need)
		}
	}
}

func TestDashboardShape(t *testing.T) {
	t.Parallel()
	d := readDashboard(t)
	if d.UID == "" || d.Title == "" {
		t.Error("the dashboard needs a uid and a title")
	}
	hasDatasource := slices.ContainsFunc(d.Templating.List, func(v variable) bool {
		return v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus"
	})
	if !hasDatasource {
		t.Error("no Prometheus datasource variable named datasource")
	}
	for _, p := range allPanels(d.Panels) {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q does not use the datasource variable", p.Title)
		}
	}
}

// resolve maps a queried series name to its documented metric: itself, or a histogram's _bucket, _count or
// _sum series.
func resolve(name string, documented map[string]string) (string, bool) {
	if _, ok := documented[name]; ok {
		return name, true
	}
	for _, suffix := range []string{"_bucket", "_count", "_sum"} {
		base, found := strings.CutSuffix(name, suffix)
		if found && documented[base] == "histogram" {
			return base, true
		}
	}
	return name, false
}

var (
	// stringLit is a PromQL string in double or single quotes, with escapes.
	stringLit = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	// grafanaVar is a dashboard variable or a Grafana built-in ($x, ${x}, ${x:fmt}, $__rate_interval).
	grafanaVar = regexp.MustCompile(`\$\{[^}]*\}|\$\w+`)
	// matchers, ranges and grouping clauses hold label names and durations, never metric names.
	matchers = regexp.MustCompile(`\{[^}]*\}`)
	ranges   = regexp.MustCompile(`\[[^\]]*\]`)
	grouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	// labelValues is Grafana's label_values(selector, label): the label is no metric.
	labelValues = regexp.MustCompile(`\blabel_values\s*\((.*),\s*\w+\s*\)`)
	identifier  = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	// keywords are PromQL words that are neither functions nor metrics.
	keywords = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
		"and", "or", "unless", "inf", "nan", "atan2"}
)

// metricNames returns the metric names an expression selects: identifiers that are not inside strings, label
// matchers, ranges or grouping clauses, not a function or aggregation (followed by "("), not a keyword, not a
// number's exponent or a duration's unit.
func metricNames(expr string) []string {
	expr = stringLit.ReplaceAllString(expr, `""`)
	expr = labelValues.ReplaceAllString(expr, "$1")
	expr = grafanaVar.ReplaceAllString(expr, "")
	for _, re := range []*regexp.Regexp{matchers, ranges, grouping} {
		expr = re.ReplaceAllString(expr, " ")
	}
	var out []string
	for _, loc := range identifier.FindAllStringIndex(expr, -1) {
		word := expr[loc[0]:loc[1]]
		if loc[0] > 0 && isDigitOrDot(expr[loc[0]-1]) {
			continue // 1e3, 5m
		}
		if strings.HasPrefix(strings.TrimLeft(expr[loc[1]:], " \t\n"), "(") || slices.Contains(keywords, strings.ToLower(word)) {
			continue
		}
		out = append(out, word)
	}
	return out
}

func isDigitOrDot(c byte) bool { return c == '.' || (c >= '0' && c <= '9') }

func TestMetricNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`sum by (route) (rate(http_requests_total{job=~"$job", route=~"/v1/.*"}[$__rate_interval]))`, []string{"http_requests_total"}},
		{`histogram_quantile(0.99, sum by (le) (rate(relay_produce_latency_seconds_bucket[5m])))`, []string{"relay_produce_latency_seconds_bucket"}},
		{`a_total / on(job) group_left b_info offset 1h > bool 1e3`, []string{"a_total", "b_info"}},
		{`label_values(app_build_info{service="writer"}, job)`, []string{"app_build_info"}},
		{`sum(x{l="a{b}"}) without (instance) or y`, []string{"x", "y"}},
		{`vector(1)`, nil},
	} {
		if got := metricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%q) = %v, want %v", tc.expr, got, tc.want)
		}
	}
}
