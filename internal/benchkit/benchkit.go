// Package benchkit measures the project's benchmarks as ratios against a reference run in the same process, the
// two alternating round by round, and records the median ratio in .bench/results.json, which `make bench` prints.
//
// Ratios, not absolute times: the machines vary, a ratio against the same server in the same minute does not.
package benchkit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// Result is one benchmark's outcome as results.json stores it.
type Result struct {
	Value     float64 `json:"value"`
	Reference float64 `json:"reference"`
	Ratio     float64 `json:"ratio"`
	Unit      string  `json:"unit"`
	Note      string  `json:"note"`
}

// Measure runs one round of a subject or a reference and returns its measurement in the benchmark's unit.
type Measure func() (float64, error)

// Compare runs subject and reference alternately for rounds rounds (reference first in odd rounds, subject first
// in even ones, so neither always gets the warmer server), computes ratio(subject, reference) per round, and
// returns the round with the median ratio. It returns the first measurement error.
func Compare(rounds int, subject, reference Measure, ratio func(subject, reference float64) float64) (Result, error) {
	if rounds < 1 {
		return Result{}, errors.New("benchkit: rounds must be at least 1")
	}
	type round struct{ s, r, ratio float64 }
	results := make([]round, 0, rounds)
	for i := range rounds {
		order := []Measure{subject, reference}
		if i%2 == 0 {
			order = []Measure{reference, subject}
		}
		var got [2]float64
		for j, m := range order {
			v, err := m()
			if err != nil {
				return Result{}, fmt.Errorf("benchkit: round %d: %w", i+1, err)
			}
			got[j] = v
		}
		s, r := got[1], got[0]
		if i%2 != 0 {
			s, r = got[0], got[1]
		}
		results = append(results, round{s: s, r: r, ratio: ratio(s, r)})
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
	mid := results[len(results)/2]
	return Result{Value: mid.s, Reference: mid.r, Ratio: mid.ratio}, nil
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

// Record merges name → r into results.json under dir (created when missing), keeping the other benchmarks'
// entries. It returns an error when the file cannot be read or written.
func Record(dir, name string, r Result) error {
	fileMu.Lock()
	defer fileMu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("benchkit: %w", err)
	}
	path := filepath.Join(dir, "results.json")
	all := map[string]Result{}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &all); err != nil {
			return fmt.Errorf("benchkit: decode %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("benchkit: %w", err)
	}
	all[name] = r
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return fmt.Errorf("benchkit: encode: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("benchkit: %w", err)
	}
	return nil
}

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

// Save records r under name in the module's .bench/results.json and reports its ratio as the benchmark's
// "ratio" metric; it fails the benchmark when err (the measurement's) is not nil or the file cannot be written.
func Save(b *testing.B, name string, r Result, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
	dir, err := Dir()
	if err != nil {
		b.Fatal(err)
	}
	if err := Record(dir, name, r); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(r.Ratio, "ratio")
}
