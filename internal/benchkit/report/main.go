// Command report prints .bench/results.json as a table (each benchmark's value, reference, ratio with its
// rounds, target and PASS or MISS), then every miss again, and exits with 1 when there is any miss (a target
// missed, or a measurement that failed or never recorded), 2 when the results cannot be read, 0 otherwise.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/cqrses-aws/pipeline/internal/benchkit"
)

func main() {
	path := ".bench/results.json"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	misses, err := run(path, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(2)
	}
	if misses > 0 {
		os.Exit(1)
	}
}

// run prints the results in the file at path to w and returns how many are misses. It returns an error when
// the file cannot be read or decoded, or holds no result.
func run(path string, w io.Writer) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read the results: %w", err)
	}
	var all map[string]benchkit.Result
	if err := json.Unmarshal(b, &all); err != nil {
		return 0, fmt.Errorf("decode %s: %w", path, err)
	}
	if len(all) == 0 {
		return 0, errors.New(path + " holds no result")
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	slices.Sort(names)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BENCHMARK\tVALUE\tREFERENCE\tRATIO\tROUNDS (MIN-MAX)\tTARGET\tSTATUS\tNOTE")
	var misses []string
	targets := 0
	for _, n := range names {
		r := all[n]
		if r.Target != nil {
			targets++
		}
		if miss := r.Miss(); miss != "" {
			misses = append(misses, n+": "+miss)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			n, value(r), reference(r), ratio(r), rounds(r), target(r), r.Status(), oneLine(r.Note))
	}
	if err := tw.Flush(); err != nil {
		return 0, fmt.Errorf("print the table: %w", err)
	}
	if len(misses) == 0 {
		_, err := fmt.Fprintf(w, "\nall %d targets met (%d figures without a target)\n", targets, len(names)-targets)
		return 0, err
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%d MISSED (the benchmarks fail):\n", len(misses))
	for _, m := range misses {
		fmt.Fprintf(&sb, "  MISS %s\n", m)
	}
	if _, err := io.WriteString(w, sb.String()); err != nil {
		return 0, fmt.Errorf("print the misses: %w", err)
	}
	return len(misses), nil
}

// num formats a number in four significant digits, or as a whole number with thousands separated by commas
// from 10,000 up.
func num(v float64) string {
	if math.Abs(v) < 10_000 {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	digits := strconv.FormatFloat(math.Abs(v), 'f', 0, 64)
	var sb strings.Builder
	if v < 0 {
		sb.WriteByte('-')
	}
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			sb.WriteByte(',')
		}
		sb.WriteRune(d)
	}
	return sb.String()
}

// withUnit returns v with unit after it, if there is one.
func withUnit(v float64, unit string) string {
	if unit == "" {
		return num(v)
	}
	return num(v) + " " + unit
}

func value(r benchkit.Result) string {
	if r.Failed != "" {
		return "failed"
	}
	return withUnit(r.Value, r.Unit)
}

func reference(r benchkit.Result) string {
	if r.Failed != "" || !r.HasRatio() {
		return "-"
	}
	return withUnit(r.Reference, r.Unit)
}

func ratio(r benchkit.Result) string {
	switch {
	case r.Failed != "":
		return "-"
	case !r.HasRatio():
		return "n/a"
	}
	return strconv.FormatFloat(r.Ratio, 'f', 3, 64)
}

// rounds returns "3 (0.910-0.940)" for a ratio over rounds, the count alone for one round, "-" otherwise.
func rounds(r benchkit.Result) string {
	switch {
	case r.Failed != "" || !r.HasRatio() || r.Rounds == 0:
		return "-"
	case r.Rounds == 1:
		return "1"
	}
	return fmt.Sprintf("%d (%.3f-%.3f)", r.Rounds, r.RatioMin, r.RatioMax)
}

func target(r benchkit.Result) string {
	if r.Target == nil {
		return "-"
	}
	if r.Target.Of == benchkit.OfValue && r.Unit != "" {
		return r.Target.String() + " " + r.Unit
	}
	return r.Target.String()
}

// oneLine keeps a note on its row.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
