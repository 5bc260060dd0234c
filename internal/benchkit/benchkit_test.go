package benchkit_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/benchkit"
)

func TestCompareTakesMedianRatioAndAlternates(t *testing.T) {
	t.Parallel()
	var calls []string
	subjects := []float64{10, 30, 20}
	refs := []float64{10, 10, 10}
	si, ri := 0, 0
	res, err := benchkit.Compare(3,
		func() (float64, error) { calls = append(calls, "s"); v := subjects[si]; si++; return v, nil },
		func() (float64, error) { calls = append(calls, "r"); v := refs[ri]; ri++; return v, nil },
		benchkit.Over)
	if err != nil {
		t.Fatal(err)
	}
	if res.Ratio != 2 || res.Value != 20 || res.Reference != 10 {
		t.Errorf("Compare = %+v, want the median round: 20 over 10", res)
	}
	if res.RatioMin != 1 || res.RatioMax != 3 || res.Rounds != 3 {
		t.Errorf("Compare = %+v, want ratios from 1 to 3 over 3 rounds", res)
	}
	if got := strings.Join(calls, ""); got != "rssrrs" {
		t.Errorf("call order %q, want alternating rssrrs", got)
	}
}

func TestCompareStopsOnError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	_, err := benchkit.Compare(3, func() (float64, error) { return 0, boom },
		func() (float64, error) { return 1, nil }, benchkit.Over)
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
}

func TestPairedKeepsMedianRoundAndRefusesMismatch(t *testing.T) {
	t.Parallel()
	res, err := benchkit.Paired([]float64{40, 90}, []float64{20, 30}, benchkit.Over)
	if err != nil {
		t.Fatal(err)
	}
	// Two rounds: the median is the mean of both.
	if res.Ratio != 2.5 || res.Value != 65 || res.Reference != 25 || res.RatioMin != 2 || res.RatioMax != 3 || res.Rounds != 2 {
		t.Errorf("Paired = %+v, want 65 over 25, ratio 2.5 (ratios 2 to 3, 2 rounds)", res)
	}
	for _, c := range [][2][]float64{{nil, nil}, {{1, 2}, {1}}} {
		if _, err := benchkit.Paired(c[0], c[1], benchkit.Over); err == nil {
			t.Errorf("Paired(%v, %v) = nil error, want one", c[0], c[1])
		}
	}
}

func TestRecordMerges(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), ".bench")
	if err := benchkit.Record(dir, "a", benchkit.Result{Ratio: 1}); err != nil {
		t.Fatal(err)
	}
	if err := benchkit.Record(dir, "b", benchkit.Result{Ratio: 2, Unit: "x"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]benchkit.Result
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all["a"].Ratio != 1 || all["b"].Unit != "x" {
		t.Errorf("results.json = %v, want both entries", all)
	}
}

func TestTargets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		r      benchkit.Result
		status string
		miss   string // a part of Miss's answer; "" when it must be ""
	}{
		{"ratio at least, met", benchkit.Result{Value: 8, Reference: 10, Ratio: 0.8, Target: benchkit.RatioAtLeast(0.8)},
			benchkit.StatusPass, ""},
		{"ratio at least, missed", benchkit.Result{Value: 3.78, Reference: 10, Ratio: 0.378, Target: benchkit.RatioAtLeast(0.7)},
			benchkit.StatusMiss, "ratio 0.378, target ratio >= 0.7"},
		{"ratio at most, met", benchkit.Result{Value: 14, Reference: 10, Ratio: 1.4, Target: benchkit.RatioAtMost(2)},
			benchkit.StatusPass, ""},
		{"ratio at most, missed", benchkit.Result{Value: 25, Reference: 10, Ratio: 2.5, Target: benchkit.RatioAtMost(2)},
			benchkit.StatusMiss, "ratio 2.5, target ratio <= 2"},
		{"value budget, met", benchkit.Result{Value: 250, Unit: "MiB", Target: benchkit.ValueAtMost(300)},
			benchkit.StatusPass, ""},
		{"value budget, missed", benchkit.Result{Value: 403, Unit: "MiB", Target: benchkit.ValueAtMost(300)},
			benchkit.StatusMiss, "value 403 MiB, target value <= 300 MiB"},
		{"value floor, missed", benchkit.Result{Value: 2, Target: benchkit.ValueAtLeast(3)},
			benchkit.StatusMiss, "value 2, target value >= 3"},
		{"plain figure without a target", benchkit.Figure(318, "ms"), benchkit.StatusNoTarget, ""},
		{"ratio target on a plain figure", benchkit.Result{Value: 1, Target: benchkit.RatioAtLeast(0.5)},
			benchkit.StatusMiss, "no ratio"},
		{"failed, with a target", benchkit.Result{Ratio: 5, Reference: 1, Target: benchkit.RatioAtLeast(1), Failed: "boom"},
			benchkit.StatusMiss, "failed: boom"},
		{"failed, without a target", benchkit.Result{Failed: benchkit.NotRecorded}, benchkit.StatusMiss, "no result recorded"},
		{"malformed target", benchkit.Result{Value: 1, Reference: 1, Ratio: 1, Target: &benchkit.Target{Of: "ratio", Op: ">"}},
			benchkit.StatusMiss, "op must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.r.Status(); got != tt.status {
				t.Errorf("Status() = %q, want %q", got, tt.status)
			}
			got := tt.r.Miss()
			if (tt.miss == "") != (got == "") || !strings.Contains(got, tt.miss) {
				t.Errorf("Miss() = %q, want one with %q", got, tt.miss)
			}
		})
	}
}

func TestRecordMarksNonFiniteFailed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := benchkit.Record(dir, "rate", benchkit.Result{Value: math.Inf(1), Reference: 1, Ratio: math.NaN()}); err != nil {
		t.Fatal(err)
	}
	all, err := benchkit.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := all["rate"]
	if r.Value != 0 || r.Ratio != 0 || !strings.Contains(r.Failed, "not a finite number") || r.Miss() == "" {
		t.Errorf("recorded %+v, want zeros marked failed, a miss", r)
	}
}

func TestLoadWithoutFile(t *testing.T) {
	t.Parallel()
	if _, err := benchkit.Load(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of an empty folder: %v, want os.ErrNotExist", err)
	}
}

// The tests below record through Expect and Save, redirected to a temporary folder: not parallel.

func loadAll(t *testing.T, dir string) map[string]benchkit.Result {
	t.Helper()
	all, err := benchkit.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func TestSaveRecordsAFailedMeasurementAsAMiss(t *testing.T) {
	dir := t.TempDir()
	benchkit.RecordInto(t, dir)
	boom := errors.New("boom")
	testing.Benchmark(func(b *testing.B) {
		r, err := benchkit.Compare(3, func() (float64, error) { return 0, boom }, func() (float64, error) { return 1, nil },
			benchkit.Over)
		r.Unit, r.Target = "events/s", benchkit.RatioAtLeast(0.7)
		benchkit.Save(b, "relay", r, err)
		t.Error("Save returned after a failed measurement; it must stop the benchmark")
	})
	r := loadAll(t, dir)["relay"]
	if !strings.Contains(r.Failed, "boom") || r.Target == nil || r.Status() != benchkit.StatusMiss {
		t.Errorf("recorded %+v, want a failed result with its target, a miss", r)
	}
}

func TestSaveRecordsAFigure(t *testing.T) {
	dir := t.TempDir()
	benchkit.RecordInto(t, dir)
	testing.Benchmark(func(b *testing.B) {
		benchkit.Expect(b, "query", "rss")
		r := benchkit.Result{Value: 9, Reference: 10, Ratio: 0.9, Unit: "requests/s", Target: benchkit.RatioAtLeast(0.8)}
		benchkit.Save(b, "query", r, nil)
		rss := benchkit.Figure(400, "MiB")
		rss.Target = benchkit.ValueAtMost(300)
		benchkit.Save(b, "rss", rss, nil) // a miss, but the benchmark goes on: the report judges
	})
	all := loadAll(t, dir)
	if q := all["query"]; q.Failed != "" || q.Status() != benchkit.StatusPass {
		t.Errorf("query recorded %+v, want a figure that passes", q)
	}
	if r := all["rss"]; r.Failed != "" || r.Status() != benchkit.StatusMiss {
		t.Errorf("rss recorded %+v, want a measured figure that misses its budget", r)
	}
}

func TestExpectLeavesMissesWhenTheBenchmarkStops(t *testing.T) {
	dir := t.TempDir()
	benchkit.RecordInto(t, dir)
	testing.Benchmark(func(b *testing.B) {
		benchkit.Expect(b, "views", "rate", "rss")
		benchkit.Save(b, "views", benchkit.Result{Value: 1, Reference: 1, Ratio: 1, Target: benchkit.RatioAtMost(2)}, nil)
		b.Fatal("the rebuild's contents differ from the reference's")
	})
	all := loadAll(t, dir)
	if v := all["views"]; v.Failed != benchkit.BenchmarkFailed || v.Status() != benchkit.StatusMiss {
		t.Errorf("views recorded %+v, want marked failed once the benchmark failed", v)
	}
	for _, n := range []string{"rate", "rss"} {
		if r := all[n]; r.Failed != benchkit.NotRecorded || r.Status() != benchkit.StatusMiss {
			t.Errorf("%s recorded %+v, want the placeholder miss of a result never recorded", n, r)
		}
	}
}
