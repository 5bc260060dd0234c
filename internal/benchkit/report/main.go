// Command report prints .bench/results.json as a table: each benchmark's value, reference, ratio and note.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"text/tabwriter"

	"github.com/cqrses-aws/pipeline/internal/benchkit"
)

func main() {
	path := ".bench/results.json"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	if err := run(path); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var all map[string]benchkit.Result
	if err := json.Unmarshal(b, &all); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	slices.Sort(names)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "BENCHMARK\tVALUE\tREFERENCE\tRATIO\tUNIT\tNOTE")
	for _, n := range names {
		r := all[n]
		fmt.Fprintf(w, "%s\t%.4g\t%.4g\t%.3f\t%s\t%s\n", n, r.Value, r.Reference, r.Ratio, r.Unit, r.Note)
	}
	return w.Flush()
}
