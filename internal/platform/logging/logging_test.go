package logging_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/logging"
)

func TestNewJSON(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log, err := logging.New(&buf, config.Log{Level: slog.LevelWarn, Format: "json"}, "writer")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	log.Info("dropped")
	log.Warn("kept", "room_id", "r1")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1: %q", len(lines), buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("unmarshal %q: %v", lines[0], err)
	}
	for k, want := range map[string]string{"msg": "kept", "level": "WARN", "service": "writer", "room_id": "r1"} {
		if rec[k] != want {
			t.Errorf("%s = %v, want %q", k, rec[k], want)
		}
	}
}

func TestNewFormats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		format  string
		wantErr bool
		want    string
	}{
		{"json", false, `"service":"relay"`},
		{"text", false, "service=relay"},
		{"xml", true, ""},
		{"", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			log, err := logging.New(&buf, config.Log{Level: slog.LevelInfo, Format: tt.format}, "relay")
			if tt.wantErr {
				if err == nil {
					t.Fatal("New: want error, got nil")
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			log.Info("hello")
			if !strings.Contains(buf.String(), tt.want) {
				t.Errorf("output %q does not contain %q", buf.String(), tt.want)
			}
		})
	}
}

func TestNewNilWriter(t *testing.T) {
	t.Parallel()
	if _, err := logging.New(nil, config.Log{Format: "json"}, "x"); err == nil {
		t.Fatal("New(nil writer): want error, got nil")
	}
}

// TestDurationsAreReadable checks that durations log as Go duration strings, not nanosecond counts.
func TestDurationsAreReadable(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log, err := logging.New(&buf, config.Log{Level: slog.LevelInfo, Format: "json"}, "svc")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("shutdown", "timeout", 1500*time.Millisecond)
	if !strings.Contains(buf.String(), `"timeout":"1.5s"`) {
		t.Errorf("log line %s lacks \"timeout\":\"1.5s\"", buf.String())
	}
}
