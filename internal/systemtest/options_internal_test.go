package systemtest

import (
	"slices"
	"testing"
)

// TestEnvOf: Env["writer"] reaches every writer, an instance's own entry comes after it, and the other processes
// get only their own.
func TestEnvOf(t *testing.T) {
	t.Parallel()
	all, second, relay := map[string]string{"A": "1"}, map[string]string{"A": "2"}, map[string]string{"B": "3"}
	o := Options{Writers: 3, Env: map[string]map[string]string{"writer": all, "writer-2": second, "relay": relay}}.withDefaults()
	if got := writerNames(o.Writers); !slices.Equal(got, []string{"writer", "writer-2", "writer-3"}) {
		t.Errorf("writerNames(3) = %q", got)
	}
	for _, tc := range []struct {
		name string
		want map[string]string
	}{
		{"writer", all}, {"writer-2", second}, {"writer-3", all}, {"relay", relay}, {"projectors", map[string]string{}},
	} {
		if got := merge(o.envOf(tc.name)...); !equal(got, tc.want) {
			t.Errorf("merged env of %s = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
