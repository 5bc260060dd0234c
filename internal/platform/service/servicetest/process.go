package servicetest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// Binary builds the Go package at dir (relative to the test's directory, e.g. "../relay" or ".") once per test
// binary and returns the path of the executable; it fails the test when the build fails. The executables go to a
// temporary directory removed when the test process exits (see RemoveBinaries).
func Binary(tb testing.TB, dir string) string {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if path, ok := built[dir]; ok {
		return path
	}
	out, err := os.MkdirTemp("", "servicetest-bin")
	if err != nil {
		tb.Fatalf("servicetest: temp dir: %v", err)
	}
	path := filepath.Join(out, filepath.Base(filepath.Clean(dir)))
	if filepath.Base(filepath.Clean(dir)) == "." {
		wd, _ := os.Getwd()
		path = filepath.Join(out, filepath.Base(wd))
	}
	if msg, err := exec.Command("go", "build", "-o", path, dir).CombinedOutput(); err != nil {
		tb.Fatalf("servicetest: go build %s: %v\n%s", dir, err, msg)
	}
	built[dir] = path
	return path
}

// Main runs m's tests, deletes the binaries Binary built and exits with the tests' code: the whole TestMain of
// a package whose tests run services as processes.
func Main(m *testing.M) {
	code := m.Run()
	RemoveBinaries()
	os.Exit(code)
}

// RemoveBinaries deletes what Binary built; call it from TestMain after m.Run.
func RemoveBinaries() {
	buildMu.Lock()
	defer buildMu.Unlock()
	for _, path := range built {
		_ = os.RemoveAll(filepath.Dir(path))
	}
	clear(built)
}

// Process is a service started as its own process, its output kept (and printed when the test fails).
type Process struct {
	name string
	cmd  *exec.Cmd
	out  *Logs
	done chan struct{}
}

// StartProcess runs bin with args, the local stack's endpoints, an ephemeral HTTP port and env added; the test's
// end stops it (SIGTERM, then SIGKILL) and prints its output when the test failed.
func StartProcess(tb testing.TB, bin, name string, args []string, env map[string]string) *Process {
	tb.Helper()
	st := testkit.MustStack(tb)
	p := &Process{name: name, out: NewLogs(tb), done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HTTP_ADDR=127.0.0.1:0", "LOG_LEVEL=debug",
		"AWS_ENDPOINT_URL=" + st.AWS.EndpointURL, "AWS_REGION=" + st.AWS.Region,
		"AWS_ACCESS_KEY_ID=" + st.AWS.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + st.AWS.SecretAccessKey.Reveal(),
		"KAFKA_BROKERS=" + strings.Join(st.Kafka.Brokers, ","),
		"POSTGRES_URL=" + st.Postgres.URL.Reveal(), "OPENSEARCH_URL=" + st.Search.URL,
	}
	for k, v := range map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": st.AWS.EndpointDynamoDB, "AWS_ENDPOINT_URL_S3": st.AWS.EndpointS3} {
		if v != "" {
			p.cmd.Env = append(p.cmd.Env, k+"="+v)
		}
	}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	tb.Cleanup(func() { p.Stop(tb) })
	return p
}

// Output returns what the process printed so far.
func (p *Process) Output() string { return p.out.String() }

// Stop sends SIGTERM and waits up to 20 s, then kills; it is a no-op once the process ended.
func (p *Process) Stop(tb testing.TB) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		tb.Errorf("%s did not stop within 20s of SIGTERM; killing it", p.name)
		p.Kill9()
	}
}

// Kill9 kills the process with SIGKILL and waits for it.
func (p *Process) Kill9() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Wait waits up to timeout for the process to exit by itself and returns its exit code.
func (p *Process) Wait(timeout time.Duration) (int, error) {
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode(), nil
	case <-time.After(timeout):
		return -1, fmt.Errorf("%s still running after %s", p.name, timeout)
	}
}

// Addr returns the address the service logged it listens on, waiting up to 30 s.
func (p *Process) Addr(tb testing.TB) string {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(p.Output(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "http server listening" {
				return rec.Addr
			}
		}
		time.Sleep(20 * time.Millisecond) // polling interval of the log
	}
	tb.Fatalf("%s did not listen within 30s", p.name)
	return ""
}
