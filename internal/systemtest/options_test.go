package systemtest_test

import (
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/systemtest"
)

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	const secret = "a-secret-of-at-least-32-bytes-0123"
	for _, tc := range []struct {
		name string
		opts systemtest.Options
		want string // a part of the error; "" for none
	}{
		{"defaults but the secret", systemtest.Options{Secret: secret}, ""},
		{"two query APIs", systemtest.Options{Secret: secret, QueryAPIs: []systemtest.QueryAPI{{Name: "queryapi"}, {Name: "queryapi-fast"}}}, ""},
		{"short secret", systemtest.Options{Secret: "short"}, "secret"},
		{"negative partitions", systemtest.Options{Secret: secret, Partitions: -1}, "partition"},
		{"query API named like another process", systemtest.Options{Secret: secret, QueryAPIs: []systemtest.QueryAPI{{Name: "relay"}}}, `"relay"`},
		{"unnamed query API", systemtest.Options{Secret: secret, QueryAPIs: []systemtest.QueryAPI{{}}}, `""`},
		{"env for no process", systemtest.Options{Secret: secret, Env: map[string]map[string]string{"nobody": {"X": "1"}}}, `"nobody"`},
		{"env for the writer", systemtest.Options{Secret: secret, Env: map[string]map[string]string{"writer": {"X": "1"}}}, ""},
		{"env for the default query API", systemtest.Options{Secret: secret, Env: map[string]map[string]string{"queryapi": {"X": "1"}}}, ""},
		{"two writers", systemtest.Options{Secret: secret, Writers: 2}, ""},
		{"negative writers", systemtest.Options{Secret: secret, Writers: -1}, "writer count"},
		{"env for the second writer", systemtest.Options{Secret: secret, Writers: 2, Env: map[string]map[string]string{"writer-2": {"X": "1"}}}, ""},
		{"env for a writer not started", systemtest.Options{Secret: secret, Env: map[string]map[string]string{"writer-2": {"X": "1"}}}, `"writer-2"`},
		{"query API named like the second writer", systemtest.Options{Secret: secret, Writers: 2, QueryAPIs: []systemtest.QueryAPI{{Name: "writer-2"}}}, `"writer-2"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.opts.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate() = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}
