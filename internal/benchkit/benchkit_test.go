package benchkit_test

import (
	"encoding/json"
	"errors"
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
