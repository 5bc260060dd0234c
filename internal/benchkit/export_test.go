package benchkit

import "testing"

// RecordInto makes Expect and Save record into dir until the test ends; tests that call it must not be parallel.
func RecordInto(tb testing.TB, dir string) {
	tb.Helper()
	saved := dirOf
	dirOf = func() (string, error) { return dir, nil }
	tb.Cleanup(func() { dirOf = saved })
}
