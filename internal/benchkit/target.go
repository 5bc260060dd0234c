package benchkit

import (
	"fmt"
	"math"
	"strconv"
)

// What a target bounds: the ratio over the reference, or the value itself (a plain figure, such as a p99 or a
// peak RSS, whose bound is absolute).
const (
	OfRatio = "ratio"
	OfValue = "value"
)

// The directions of a target: the measured number must be at least (>=) or at most (<=) the bound.
const (
	AtLeast = ">="
	AtMost  = "<="
)

// Target is the bound a result must meet for `make bench` to pass: Of (OfRatio or OfValue) compared by Op
// (AtLeast or AtMost) with Bound.
type Target struct {
	Of    string  `json:"of"`
	Op    string  `json:"op"`
	Bound float64 `json:"bound"`
}

// RatioAtLeast returns the target "ratio >= bound", for ratios where higher is better (throughput).
func RatioAtLeast(bound float64) *Target { return &Target{Of: OfRatio, Op: AtLeast, Bound: bound} }

// RatioAtMost returns the target "ratio <= bound", for ratios where lower is better (time, latency).
func RatioAtMost(bound float64) *Target { return &Target{Of: OfRatio, Op: AtMost, Bound: bound} }

// ValueAtLeast returns the target "value >= bound", for a plain figure where higher is better.
func ValueAtLeast(bound float64) *Target { return &Target{Of: OfValue, Op: AtLeast, Bound: bound} }

// ValueAtMost returns the target "value <= bound", for a plain figure with a budget (a p99, a peak RSS).
func ValueAtMost(bound float64) *Target { return &Target{Of: OfValue, Op: AtMost, Bound: bound} }

// String returns the target as the report prints it, e.g. "ratio >= 0.7" or "value <= 300".
func (t Target) String() string {
	return t.Of + " " + t.Op + " " + strconv.FormatFloat(t.Bound, 'g', -1, 64)
}

// validate returns an error when t names neither the ratio nor the value, or neither direction, or a bound
// that is not a finite number.
func (t Target) validate() error {
	if t.Of != OfRatio && t.Of != OfValue {
		return fmt.Errorf("target %q: of must be %q or %q", t, OfRatio, OfValue)
	}
	if t.Op != AtLeast && t.Op != AtMost {
		return fmt.Errorf("target %q: op must be %q or %q", t, AtLeast, AtMost)
	}
	if math.IsNaN(t.Bound) || math.IsInf(t.Bound, 0) {
		return fmt.Errorf("target %q: the bound is not a finite number", t)
	}
	return nil
}

// HasRatio reports whether r has a ratio: a plain figure (no reference, Reference 0) has none, and its Ratio
// means nothing ("n/a" in the report).
func (r Result) HasRatio() bool { return r.Reference != 0 }

// The statuses Status returns.
const (
	StatusPass     = "PASS"
	StatusMiss     = "MISS"
	StatusNoTarget = "-"
)

// Status returns StatusMiss when Miss says r misses, StatusNoTarget for a measured figure without a target,
// and StatusPass otherwise.
func (r Result) Status() string {
	switch {
	case r.Miss() != "":
		return StatusMiss
	case r.Target == nil:
		return StatusNoTarget
	}
	return StatusPass
}

// Miss returns why r is a miss, or "" when it is not: its measurement failed (or its benchmark failed, was
// killed or timed out before recording it), its target is malformed or bounds a ratio r does not have, or the
// number it bounds is on the wrong side of it. A result without a target that was measured is never a miss.
func (r Result) Miss() string {
	if r.Failed != "" {
		return "failed: " + r.Failed
	}
	t := r.Target
	if t == nil {
		return ""
	}
	if err := t.validate(); err != nil {
		return err.Error()
	}
	got := r.Value
	if t.Of == OfRatio {
		if !r.HasRatio() {
			return fmt.Sprintf("target %s, but the result has no reference, so no ratio", t)
		}
		got = r.Ratio
	}
	if (t.Op == AtLeast && got >= t.Bound) || (t.Op == AtMost && got <= t.Bound) {
		return ""
	}
	unit := ""
	if t.Of == OfValue && r.Unit != "" {
		unit = " " + r.Unit
	}
	return fmt.Sprintf("%s %.4g%s, target %s%s", t.Of, got, unit, t, unit)
}
