package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

const plain = "hunter2-very-secret"

type holder struct {
	Postgres config.Postgres
	Search   config.Search
	AWS      config.AWS
	Ptr      *config.Secret
}

func newHolder() holder {
	s := config.Secret(plain)
	return holder{
		Postgres: config.Postgres{URL: config.Secret("postgres://u:" + plain + "@h/db")},
		Search:   config.Search{Username: "u", Password: config.Secret(plain)},
		AWS:      config.AWS{AccessKeyID: "AKIA", SecretAccessKey: config.Secret(plain)},
		Ptr:      &s,
	}
}

func TestSecretNeverRendered(t *testing.T) {
	t.Parallel()
	s := config.Secret(plain)
	h := newHolder()
	render := []struct {
		name string
		fn   func() string
	}{
		{"%v", func() string { return fmt.Sprintf("%v", s) }},
		//lint:ignore S1025 the point is what fmt's %s verb prints.
		{"%s", func() string { return fmt.Sprintf("%s", s) }},
		{"%q", func() string { return fmt.Sprintf("%q", s) }},
		{"%#v", func() string { return fmt.Sprintf("%#v", s) }},
		{"struct %v", func() string { return fmt.Sprintf("%v", h) }},
		{"struct %+v", func() string { return fmt.Sprintf("%+v", h) }},
		{"struct %#v", func() string { return fmt.Sprintf("%#v", h) }},
		{"pointer %v", func() string { return fmt.Sprintf("%v", *h.Ptr) }},
		{"json", func() string { b, _ := json.Marshal(h); return string(b) }},
		{"text", func() string { b, _ := s.MarshalText(); return string(b) }},
		{"slog json", func() string { return logged(slog.NewJSONHandler, h) }},
		{"slog text", func() string { return logged(slog.NewTextHandler, h) }},
	}
	for _, r := range render {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			out := r.fn()
			if strings.Contains(out, plain) {
				t.Errorf("secret leaked: %s", out)
			}
			if !strings.Contains(out, "***") {
				t.Errorf("redaction marker missing: %s", out)
			}
		})
	}
}

func logged[H slog.Handler](newHandler func(w io.Writer, opts *slog.HandlerOptions) H, h holder) string {
	var buf bytes.Buffer
	log := slog.New(newHandler(&buf, nil))
	log.Info("config loaded", "secret", h.Search.Password, "aws_secret", h.AWS.SecretAccessKey,
		"postgres", h.Postgres.URL)
	return buf.String()
}

func TestSecretEmptyAndReveal(t *testing.T) {
	t.Parallel()
	var empty config.Secret
	if got := fmt.Sprintf("[%v|%#v]", empty, empty); got != "[|]" {
		t.Errorf("empty secret printed %q, want [|]", got)
	}
	if b, err := json.Marshal(empty); err != nil || string(b) != `""` {
		t.Errorf("json.Marshal(empty) = %s, %v", b, err)
	}
	if v := empty.LogValue(); v.String() != "" {
		t.Errorf("empty LogValue = %q", v.String())
	}
	if got := config.Secret(plain).Reveal(); got != plain {
		t.Errorf("Reveal = %q, want %q", got, plain)
	}
}
