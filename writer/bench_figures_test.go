package main

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/benchkit"
)

// sample is one round of a benchmark's subject or reference: operations per second, and every operation's
// latency, sorted.
type sample struct {
	rate float64
	lats []time.Duration
}

// run has clients clients do n operations each, concurrently, and returns the operations per second and every
// operation's latency; an operation's error ends its client's run, and run returns every client's error joined.
func run(clients, n int, op func(client, i int) error) (sample, error) {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		lats = make([]time.Duration, 0, clients*n)
		errs []error
	)
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			mine := make([]time.Duration, 0, n)
			var err error
			for i := range n {
				t0 := time.Now()
				if err = op(c, i); err != nil {
					break
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lats, errs = append(lats, mine...), append(errs, err)
			mu.Unlock()
		})
	}
	wg.Wait()
	took := time.Since(start)
	slices.Sort(lats)
	return sample{rate: float64(len(lats)) / took.Seconds(), lats: lats}, errors.Join(errs...)
}

// figure is one result a benchmark computes from each round's sample: its name in results.json, unit, target
// (nil for a diagnostic) and how it is computed.
type figure struct {
	name, unit string
	target     *benchkit.Target
	of         func(sample) float64
}

// rate is a sample's operations per second.
func rate(s sample) float64 { return s.rate }

// quantile returns the figure of a sample's q-quantile latency in milliseconds: the latency that a fraction q of
// the operations did not exceed (nearest rank), 0 for a sample without latencies.
func quantile(q float64) func(sample) float64 {
	return func(s sample) float64 {
		if len(s.lats) == 0 {
			return 0
		}
		rank := min(int(q*float64(len(s.lats))), len(s.lats)-1)
		return float64(s.lats[rank].Microseconds()) / 1000
	}
}

// figureNames returns the results.json names of figs, for benchkit.Expect.
func figureNames(figs []figure) []string {
	names := make([]string, len(figs))
	for i, f := range figs {
		names[i] = f.name
	}
	return names
}

// compareFigures runs subject and reference alternately for rounds rounds (benchkit.Compare, ratio
// subject/reference) and returns one result per figure, each with its own median round, lowest and highest
// ratio over the same rounds: the first figure's Compare measures, the others' replay the samples it kept in the
// order it measured them. On a measurement error it returns
// that error, with results that hold only the rounds completed before it.
func compareFigures(rounds int, subject, reference func() (sample, error), figs []figure) ([]benchkit.Result, error) {
	var kept [2][]sample
	measure := func(side int, m func() (sample, error)) benchkit.Measure {
		return func() (float64, error) {
			s, err := m()
			kept[side] = append(kept[side], s)
			return figs[0].of(s), err
		}
	}
	first, err := benchkit.Compare(rounds, measure(0, subject), measure(1, reference), benchkit.Over)
	results := make([]benchkit.Result, len(figs))
	for i, f := range figs {
		r := first
		if i > 0 && err == nil {
			replay := func(side int) benchkit.Measure {
				next := 0
				return func() (float64, error) {
					next++
					return f.of(kept[side][next-1]), nil
				}
			}
			r, _ = benchkit.Compare(rounds, replay(0), replay(1), benchkit.Over) // replays cannot fail
		}
		results[i] = r
	}
	return results, err
}

// saveFigures records each of figs' results (benchkit.Save) with note, all marked failed with err when it is not
// nil, and then fails the benchmark with err, letting it go on so that it records its other results too.
func saveFigures(b *testing.B, figs []figure, results []benchkit.Result, note string, err error) {
	b.Helper()
	for i, f := range figs {
		r := results[i]
		r.Note, r.Unit, r.Target = note, f.unit, f.target
		if err != nil {
			r.Failed = err.Error()
		}
		benchkit.Save(b, f.name, r, nil)
	}
	if err != nil {
		b.Errorf("%s: %v", strings.Join(figureNames(figs), ", "), err)
	}
}
