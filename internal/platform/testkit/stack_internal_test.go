package testkit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fatalRecorder records the message of a Fatalf and ends its goroutine, as testing.T does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestUnreachableSaysHowToStart checks that a missing server fails the test with the advice to run `make up`.
func TestUnreachableSaysHowToStart(t *testing.T) {
	t.Parallel()
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		unreachable(rec, "Kafka", "127.0.0.1:1", errors.New("connection refused"))
	}()
	<-done
	for _, want := range []string{"Kafka at 127.0.0.1:1 is unreachable", "connection refused", "run `make up`"} {
		if !strings.Contains(rec.msg, want) {
			t.Errorf("failure message %q lacks %q", rec.msg, want)
		}
	}
}

// TestReadEnvFile checks the parser of .local/env: KEY=value lines, comments and blanks skipped, values kept whole.
func TestReadEnvFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "env")
	content := "# endpoints\n\nKAFKA_BROKERS=127.0.0.1:19092\nPOSTGRES_URL=postgres://u:p@h:1/db?sslmode=disable\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	if err := readEnvFile(path, got); err != nil {
		t.Fatalf("readEnvFile: %v", err)
	}
	if len(got) != 2 || got["KAFKA_BROKERS"] != "127.0.0.1:19092" ||
		got["POSTGRES_URL"] != "postgres://u:p@h:1/db?sslmode=disable" {
		t.Errorf("readEnvFile = %v", got)
	}
	if err := readEnvFile(filepath.Join(t.TempDir(), "missing"), got); err == nil {
		t.Error("readEnvFile of a missing file succeeded")
	}
}
