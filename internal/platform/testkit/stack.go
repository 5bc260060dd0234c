// Package testkit gives integration tests the local stack's real servers: it reads the endpoints that `make up`
// wrote to .local/env, and hands each test its own uniquely named, cleaned-up DynamoDB table, S3 bucket, Kafka
// topic, OpenSearch index and Postgres schema, so tests run in parallel and leave nothing behind.
//
// A test that needs a server and finds none fails, with a message that says to run `make up`; it never skips.
package testkit

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

// HowToStart is the advice every failure to reach the stack ends with.
const HowToStart = "run `make up` (or `make test`, which starts it) and try again"

// setupTimeout bounds each call a helper makes to set up or clean up a resource.
const setupTimeout = 30 * time.Second

// Stack holds the endpoints of the local stack as the configuration blocks the services use.
type Stack struct {
	AWS      config.AWS
	Kafka    config.Kafka
	Postgres config.Postgres
	Search   config.Search
}

var (
	stackOnce sync.Once
	stack     Stack
	stackErr  error
)

// MustStack returns the stack's endpoints: variables already in the environment win, the rest come from the
// .local/env file of the repository this test runs in. It fails the test when the endpoints are missing.
func MustStack(tb testing.TB) Stack {
	tb.Helper()
	stackOnce.Do(func() { stack, stackErr = loadStack() })
	if stackErr != nil {
		tb.Fatalf("testkit: local stack endpoints: %v; %s", stackErr, HowToStart)
	}
	return stack
}

func loadStack() (Stack, error) {
	environ := map[string]string{}
	if path, err := findEnvFile(); err == nil {
		if err := readEnvFile(path, environ); err != nil {
			return Stack{}, err
		}
	}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && v != "" {
			environ[k] = v
		}
	}
	if environ["KAFKA_BROKERS"] == "" {
		return Stack{}, errors.New("KAFKA_BROKERS is not set and no .local/env was found")
	}
	return config.LoadFrom[Stack]("", environ)
}

// findEnvFile walks up from the working directory (a package folder under `go test`) to the module root and
// returns its .local/env.
func findEnvFile() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, ".local", "env"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// readEnvFile adds the KEY=value lines of path to environ, skipping blanks and # comments.
func readEnvFile(path string, environ map[string]string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			environ[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// UniqueName returns a name for a test's own resource: prefix, a slug of the test's name and a random suffix,
// in lower-case letters, digits and hyphens (valid as a table, bucket, topic, index or schema name once the
// caller swaps hyphens where a server wants underscores).
func UniqueName(tb testing.TB, prefix string) string {
	tb.Helper()
	var b strings.Builder
	for _, r := range strings.ToLower(tb.Name()) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
		if b.Len() >= 24 {
			break
		}
	}
	slug := strings.Trim(b.String(), "-")
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		tb.Fatalf("testkit: random suffix: %v", err)
	}
	return fmt.Sprintf("%s-%s-%s", prefix, slug, hex.EncodeToString(suffix))
}

// cleanupContext is the context for work done in tb.Cleanup, when the test's own context is already done.
func cleanupContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), setupTimeout)
}

// unreachable fails the test for a server that did not answer.
func unreachable(tb testing.TB, server, where string, err error) {
	tb.Helper()
	tb.Fatalf("testkit: %s at %s is unreachable: %v; %s", server, where, err, HowToStart)
}
