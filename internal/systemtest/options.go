package systemtest

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// defaultPartitions is the event topics' partition count when Options leaves it zero: the services' default.
const defaultPartitions = 12

// Options says how the system differs between its users; Secret is required, every other zero field means the
// default its comment names (for service settings, the service's own).
type Options struct {
	// Name starts the unique names of the run's resources ("e2e", "eb"); default "sys".
	Name string
	// Secret signs the callers' tokens: the writer's and the query APIs' AUTH_HS256_SECRET (at least 32 bytes).
	Secret string
	// Partitions is the event topics' partition count; default 12.
	Partitions int32
	// LogLevel is every service's LOG_LEVEL; default debug, so a failed test prints complete logs.
	LogLevel string
	// Writers is the number of writer processes to start, all on the same journal tables and bucket, as behind a
	// load balancer with no sticky routing; default 1. The first is named "writer", the others "writer-2", ….
	Writers int
	// Projectors is the number of `projectors run` processes to start, all in the same consumer groups (they
	// share the partitions); default 1. The first is named "projectors", the others "projectors-2", ….
	Projectors int
	// QueryAPIs are the query API processes to start, all on the same read models; default one named "queryapi".
	QueryAPIs []QueryAPI
	// RelayScanInterval, RelayIdleWait and RelayLeaseTTL are the relay's RELAY_SCAN_INTERVAL,
	// RELAY_IDLE_WAIT and RELAY_LEASE_TTL.
	RelayScanInterval, RelayIdleWait, RelayLeaseTTL time.Duration
	// ProjectorsPollInterval is the projectors' PROJECTORS_POLL_INTERVAL.
	ProjectorsPollInterval time.Duration
	// Env adds variables to a service's environment by process name ("writer", "relay", "projectors" or a
	// query API's Name), after everything Start sets. "writer" names every writer process; "writer-2", … name
	// one of them and come after it; the same for "projectors".
	Env map[string]map[string]string
	// WaitPipeline makes Start, after every service is ready, register an account through the writer and wait
	// until both projections applied it with no lag: the proof that the relay and the projectors are connected.
	WaitPipeline bool
}

// QueryAPI is one query API process to start.
type QueryAPI struct {
	// Name names the process in logs and failures ("queryapi", "queryapi-fast").
	Name string
	// ConsistencyTimeout is its QUERYAPI_CONSISTENCY_TIMEOUT: how long it waits for a consistency token.
	ConsistencyTimeout time.Duration
}

// withDefaults returns o with its zero fields filled in.
func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = "sys"
	}
	if o.Partitions == 0 {
		o.Partitions = defaultPartitions
	}
	if o.Writers == 0 {
		o.Writers = 1
	}
	if o.Projectors == 0 {
		o.Projectors = 1
	}
	if len(o.QueryAPIs) == 0 {
		o.QueryAPIs = []QueryAPI{{Name: "queryapi"}}
	}
	return o
}

// Validate returns every problem of o, with its defaults filled in, joined.
func (o Options) Validate() error {
	o = o.withDefaults()
	var errs []error
	if len(o.Secret) < 32 {
		errs = append(errs, errors.New("the secret must have at least 32 bytes"))
	}
	if o.Partitions < 0 {
		errs = append(errs, errors.New("the partition count must not be negative"))
	}
	if o.Writers < 0 {
		errs = append(errs, errors.New("the writer count must not be negative"))
	}
	if o.Projectors < 0 {
		errs = append(errs, errors.New("the projectors count must not be negative"))
	}
	seen := map[string]bool{"relay": true, "projectors": true}
	for _, w := range writerNames(o.Writers) {
		seen[w] = true
	}
	for _, q := range o.QueryAPIs {
		if q.Name == "" || seen[q.Name] {
			errs = append(errs, fmt.Errorf("query API name %q is empty or taken", q.Name))
		}
		seen[q.Name] = true
	}
	for name := range o.Env {
		if !seen[name] {
			errs = append(errs, fmt.Errorf("the extra environment names %q, which is no process", name))
		}
	}
	return errors.Join(errs...)
}

// writerNames returns the process names of n writers: "writer", then "writer-2", "writer-3", ….
func writerNames(n int) []string { return replicaNames("writer", n) }

// replicaNames names n processes of one service: name, name-2, name-3, ….
func replicaNames(name string, n int) []string {
	names := make([]string, 0, max(n, 0))
	for i := range n {
		if i == 0 {
			names = append(names, name)
			continue
		}
		names = append(names, fmt.Sprintf("%s-%d", name, i+1))
	}
	return names
}

// envOf returns the extra environments of the process name, later ones winning: a writer's are Env["writer"],
// then its own name's when it is not the first, and the same for the projectors; any other process's is its
// name's.
func (o Options) envOf(name string) []map[string]string {
	if name != "writer" && slices.Contains(writerNames(o.Writers), name) {
		return []map[string]string{o.Env["writer"], o.Env[name]}
	}
	if name != "projectors" && slices.Contains(replicaNames("projectors", o.Projectors), name) {
		return []map[string]string{o.Env["projectors"], o.Env[name]}
	}
	return []map[string]string{o.Env[name]}
}
