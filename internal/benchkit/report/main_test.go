package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/benchkit"
)

// runAsMain makes the test binary run main instead of the tests, so that the tests can check its exit status.
const runAsMain = "BENCHKIT_REPORT_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsMain) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// results writes rs into a results.json in a fresh folder and returns its path.
func results(t *testing.T, rs map[string]benchkit.Result) string {
	t.Helper()
	dir := t.TempDir()
	for n, r := range rs {
		if err := benchkit.Record(dir, n, r); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "results.json")
}

// report runs the report on path as a process and returns its output and exit status.
func report(t *testing.T, path string) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], path)
	cmd.Env = append(os.Environ(), runAsMain+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	}
	t.Fatalf("run the report: %v", err)
	return "", 0
}

// row returns the table's row of name.
func row(t *testing.T, out, name string) []string {
	t.Helper()
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return f
		}
	}
	t.Fatalf("no row %s in:\n%s", name, out)
	return nil
}

func passing() benchkit.Result {
	return benchkit.Result{Value: 7039, Reference: 7610, Ratio: 0.925, RatioMin: 0.91, RatioMax: 0.94, Rounds: 3,
		Unit: "requests/s", Target: benchkit.RatioAtLeast(0.8), Note: "16 clients"}
}

func TestAllMetExitsZero(t *testing.T) {
	t.Parallel()
	out, code := report(t, results(t, map[string]benchkit.Result{
		"query_messages": passing(),
		"e2e_visible":    benchkit.Figure(318, "ms"),
	}))
	if code != 0 {
		t.Errorf("exit %d, want 0:\n%s", code, out)
	}
	q := strings.Join(row(t, out, "query_messages"), " ")
	for _, want := range []string{"7039 requests/s", "7610 requests/s", "0.925", "3 (0.910-0.940)", "ratio >= 0.8", "PASS"} {
		if !strings.Contains(q, want) {
			t.Errorf("row %q lacks %q", q, want)
		}
	}
	e := strings.Join(row(t, out, "e2e_visible"), " ")
	if !strings.HasPrefix(e, "e2e_visible 318 ms - n/a - - -") {
		t.Errorf("plain figure's row %q, want value 318 ms, no reference, ratio n/a, no rounds, no target, no status", e)
	}
	if strings.Contains(out, "MISS") || !strings.Contains(out, "all 1 targets met (1 figures without a target)") {
		t.Errorf("want no miss and the summary line:\n%s", out)
	}
}

func TestAMissExitsNonZeroAndIsListed(t *testing.T) {
	t.Parallel()
	rss := benchkit.Figure(403, "MiB")
	rss.Target = benchkit.ValueAtMost(300)
	out, code := report(t, results(t, map[string]benchkit.Result{
		"query_messages":   passing(),
		"relay_throughput": {Value: 201500, Reference: 533700, Ratio: 0.378, Rounds: 1, Unit: "events/s", Target: benchkit.RatioAtLeast(0.7)},
		"replay_rss":       rss,
	}))
	if code != 1 {
		t.Errorf("exit %d, want 1:\n%s", code, out)
	}
	if f := row(t, out, "relay_throughput"); !strings.Contains(strings.Join(f, " "), "201,500 events/s 533,700 events/s 0.378 1 ratio >= 0.7 MISS") {
		t.Errorf("relay row %q, want its target and MISS", f)
	}
	if f := row(t, out, "replay_rss"); !strings.Contains(strings.Join(f, " "), "value <= 300 MiB MISS") {
		t.Errorf("rss row %q, want its target and MISS", f)
	}
	_, misses, ok := strings.Cut(out, "2 MISSED")
	if !ok {
		t.Fatalf("no list of 2 misses:\n%s", out)
	}
	for _, want := range []string{"MISS relay_throughput: ratio 0.378, target ratio >= 0.7",
		"MISS replay_rss: value 403 MiB, target value <= 300 MiB"} {
		if !strings.Contains(misses, want) {
			t.Errorf("the list of misses lacks %q:\n%s", want, misses)
		}
	}
	if strings.Contains(misses, "query_messages") {
		t.Errorf("a passing result is listed as a miss:\n%s", misses)
	}
}

func TestAFailedMeasurementIsAMiss(t *testing.T) {
	t.Parallel()
	out, code := report(t, results(t, map[string]benchkit.Result{
		"replay_views": {Value: 300, Reference: 30, Ratio: 10, Unit: "s", Target: benchkit.RatioAtMost(2),
			Failed: "rebuild killed at its 5m deadline with 612000 of 1000000 events applied"},
		"replay_rate": {Failed: benchkit.NotRecorded},
	}))
	if code != 1 {
		t.Errorf("exit %d, want 1:\n%s", code, out)
	}
	if f := strings.Join(row(t, out, "replay_views"), " "); !strings.HasPrefix(f, "replay_views failed - - - ratio <= 2 MISS") {
		t.Errorf("row %q, want no figure (failed), its target and MISS", f)
	}
	for _, want := range []string{"MISS replay_views: failed: rebuild killed at its 5m deadline",
		"MISS replay_rate: failed: no result recorded"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestUnreadableResultsExitTwo(t *testing.T) {
	t.Parallel()
	empty := filepath.Join(t.TempDir(), "results.json")
	if err := os.WriteFile(empty, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(t.TempDir(), "results.json"), empty} {
		if out, code := report(t, path); code != 2 {
			t.Errorf("%s: exit %d, want 2:\n%s", path, code, out)
		}
	}
}
