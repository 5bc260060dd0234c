// Package benchkit measures the project's benchmarks as ratios against a reference run in the same process, the
// two alternating round by round, and records the median ratio (with the lowest and highest of the rounds) and
// the target it must meet in .bench/results.json, which `make bench` prints and judges: any miss fails it.
//
// Ratios, not absolute times: the machines vary, a ratio against the same server in the same minute does not.
// A few results are plain figures (no reference, no ratio), with or without a target on the value itself.
package benchkit

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Result is one benchmark's outcome as results.json stores it. Value and Reference are the median round's
// (Reference 0 for a plain figure, which has no ratio), Ratio is its ratio, RatioMin and RatioMax the lowest and
// highest over Rounds rounds. Target, when set, is what the result must meet; Failed, when set, says why there is
// no figure (the measurement failed, or the benchmark failed, was killed or timed out), and makes it a miss.
type Result struct {
	Value     float64 `json:"value"`
	Reference float64 `json:"reference"`
	Ratio     float64 `json:"ratio"`
	RatioMin  float64 `json:"ratio_min,omitempty"`
	RatioMax  float64 `json:"ratio_max,omitempty"`
	Rounds    int     `json:"rounds,omitempty"`
	Unit      string  `json:"unit"`
	Target    *Target `json:"target,omitempty"`
	Failed    string  `json:"failed,omitempty"`
	Note      string  `json:"note"`
}

// Figure returns a plain figure: value in unit, with no reference and so no ratio.
func Figure(value float64, unit string) Result { return Result{Value: value, Unit: unit} }

// Measure runs one round of a subject or a reference and returns its measurement in the benchmark's unit.
type Measure func() (float64, error)

// Compare runs subject and reference alternately for rounds rounds (reference first in odd rounds, subject first
// in even ones, so neither always gets the warmer server), computes ratio(subject, reference) per round, and
// returns the median round as Paired does, the lowest and highest ratio and the number of rounds. It returns the
// first measurement error, with a Result that holds only the rounds completed before it.
func Compare(rounds int, subject, reference Measure, ratio func(subject, reference float64) float64) (Result, error) {
	if rounds < 1 {
		return Result{}, errors.New("benchkit: rounds must be at least 1")
	}
	var subjects, references []float64
	for i := range rounds {
		order := []Measure{subject, reference}
		if i%2 == 0 {
			order = []Measure{reference, subject}
		}
		var got [2]float64
		for j, m := range order {
			v, err := m()
			if err != nil {
				r, _ := Paired(subjects, references, ratio)
				return r, fmt.Errorf("benchkit: round %d: %w", i+1, err)
			}
			got[j] = v
		}
		s, r := got[1], got[0]
		if i%2 != 0 {
			s, r = got[0], got[1]
		}
		subjects, references = append(subjects, s), append(references, r)
	}
	return Paired(subjects, references, ratio)
}

// Paired returns the result of rounds measured elsewhere: subjects[i] against references[i] is round i. Like
// Compare, it keeps the median round (for an even number of rounds, the mean of the two middle ones: their
// ratios, values and references), the lowest and highest ratio and the number of rounds. It
// returns an error, and a Result with no rounds, when the slices are empty or of different lengths.
func Paired(subjects, references []float64, ratio func(subject, reference float64) float64) (Result, error) {
	if len(subjects) == 0 || len(subjects) != len(references) {
		return Result{}, fmt.Errorf("benchkit: %d subject and %d reference measurements: want as many, at least one",
			len(subjects), len(references))
	}
	type round struct{ s, r, ratio float64 }
	results := make([]round, len(subjects))
	for i, s := range subjects {
		results[i] = round{s: s, r: references[i], ratio: ratio(s, references[i])}
	}
	slices.SortFunc(results, func(a, b round) int {
		switch {
		case a.ratio < b.ratio:
			return -1
		case a.ratio > b.ratio:
			return 1
		}
		return 0
	})
	// The median: the middle round, or the mean of the two middle rounds of an even number.
	lo, hi := results[(len(results)-1)/2], results[len(results)/2]
	return Result{Value: (lo.s + hi.s) / 2, Reference: (lo.r + hi.r) / 2, Ratio: (lo.ratio + hi.ratio) / 2,
		RatioMin: results[0].ratio, RatioMax: results[len(results)-1].ratio, Rounds: len(results)}, nil
}

// Over is the ratio subject/reference, for measurements where more is better (throughput) or where the target is
// that the subject be that many times larger.
func Over(subject, reference float64) float64 {
	if reference == 0 {
		return 0
	}
	return subject / reference
}

var fileMu sync.Mutex

// Load returns the results in results.json under dir, by name; it returns an error wrapping os.ErrNotExist when
// there is no such file, or one when the file cannot be read or decoded.
func Load(dir string) (map[string]Result, error) {
	path := filepath.Join(dir, "results.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("benchkit: %w", err)
	}
	all := map[string]Result{}
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, fmt.Errorf("benchkit: decode %s: %w", path, err)
	}
	return all, nil
}

// Record merges name → r into results.json under dir (created when missing), keeping the other benchmarks'
// entries. A value, reference or ratio that is not a finite number (JSON has none) is recorded as 0 with r
// marked Failed. It returns an error when the file cannot be read or written.
func Record(dir, name string, r Result) error {
	fileMu.Lock()
	defer fileMu.Unlock()
	return update(dir, func(all map[string]Result) { all[name] = finite(r) })
}

// update applies change to the results under dir and writes them back; the caller holds fileMu, and update
// holds an flock on dir's results.lock, so that benchmarks run by other processes at the same time (another
// `go test -bench` in the same tree) lose none of each other's results. It writes a temporary file and renames
// it, so that a reader never sees half a file.
func update(dir string, change func(map[string]Result)) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("benchkit: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "results.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("benchkit: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("benchkit: lock %s: %w", lock.Name(), err)
	}
	all, err := Load(dir)
	if errors.Is(err, os.ErrNotExist) {
		all, err = map[string]Result{}, nil
	}
	if err != nil {
		return err
	}
	change(all)
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return fmt.Errorf("benchkit: encode: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "results-*.json")
	if err != nil {
		return fmt.Errorf("benchkit: %w", err)
	}
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, "results.json"))
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("benchkit: write results: %w", err)
	}
	return nil
}

// finite returns r with every number that is not finite replaced by 0 and, if there was one, r marked Failed.
func finite(r Result) Result {
	var bad []string
	for _, f := range []struct {
		name string
		v    *float64
	}{{"value", &r.Value}, {"reference", &r.Reference}, {"ratio", &r.Ratio}, {"ratio_min", &r.RatioMin}, {"ratio_max", &r.RatioMax}} {
		if math.IsNaN(*f.v) || math.IsInf(*f.v, 0) {
			bad = append(bad, fmt.Sprintf("%s %v", f.name, *f.v))
			*f.v = 0
		}
	}
	if len(bad) > 0 && r.Failed == "" {
		r.Failed = "not a finite number: " + strings.Join(bad, ", ")
	}
	return r
}

// dirOf is where Expect and Save record: Dir, except in this package's tests.
var dirOf = Dir

// Dir returns the .bench folder at the module root above the working directory (a package folder under go test).
func Dir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("benchkit: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".bench"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("benchkit: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Failure messages of the results a benchmark did not finish.
const (
	// NotRecorded is the Failed of a result Expect announced and nothing recorded since: its benchmark stopped
	// (failed, was killed or hit go test's -timeout) before it measured.
	NotRecorded = "no result recorded: the benchmark stopped (failed, was killed or timed out) before measuring it"
	// BenchmarkFailed is the Failed of a result whose benchmark failed after recording it (see go test's output).
	BenchmarkFailed = "the benchmark failed (see go test's output)"
)

// Expect records each name as a failed result (NotRecorded) until the benchmark records it, so that a benchmark
// that dies before measuring (a fatal error, go test's -timeout) leaves a miss behind, not a missing line; and
// marks each one the benchmark recorded as failed (BenchmarkFailed) if the benchmark has failed when it ends.
// Call it first in a benchmark, with the names of every result it records. It fails the benchmark when the file
// cannot be written.
func Expect(b *testing.B, names ...string) {
	b.Helper()
	dir, err := dirOf()
	if err != nil {
		b.Fatal(err)
	}
	fileMu.Lock()
	err = update(dir, func(all map[string]Result) {
		for _, n := range names {
			all[n] = Result{Failed: NotRecorded}
		}
	})
	fileMu.Unlock()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range names {
		markIfFailed(b, dir, n)
	}
}

// markIfFailed registers a cleanup that marks the result name Failed (BenchmarkFailed) when the benchmark has
// failed by its end and the result does not already say why it failed.
func markIfFailed(b *testing.B, dir, name string) {
	b.Cleanup(func() {
		if !b.Failed() {
			return
		}
		fileMu.Lock()
		defer fileMu.Unlock()
		err := update(dir, func(all map[string]Result) {
			r := all[name]
			if r.Failed == "" {
				r.Failed = BenchmarkFailed
				all[name] = r
			}
		})
		if err != nil {
			b.Error(err)
		}
	})
}

// Save records r under name in the module's .bench/results.json and reports its ratio as the benchmark's
// "ratio" metric (a plain figure's value as "<name>-<unit>"). When err (the measurement's) is not nil it records r as failed, with err,
// and fails the benchmark; it also fails it when the file cannot be written. A missed target does not fail the
// benchmark (the report judges every result, so that one run shows them all); if the benchmark fails later, the
// result is marked failed when it ends.
func Save(b *testing.B, name string, r Result, err error) {
	b.Helper()
	dir, derr := dirOf()
	if derr != nil {
		b.Fatal(derr)
	}
	if err != nil {
		r.Failed = err.Error()
	}
	if rerr := Record(dir, name, r); rerr != nil {
		b.Fatal(rerr)
	}
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	markIfFailed(b, dir, name)
	if miss := r.Miss(); miss != "" {
		b.Logf("%s: MISS: %s", name, miss)
	}
	if r.HasRatio() {
		b.ReportMetric(r.Ratio, "ratio")
	} else {
		b.ReportMetric(r.Value, strings.Join(strings.Fields(name+"-"+r.Unit), "_"))
	}
}
