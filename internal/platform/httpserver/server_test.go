package httpserver_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/health"
	"github.com/cqrses-aws/pipeline/internal/platform/httpserver"
)

// started runs srv in the background and returns once it listens, with Run's result channel.
func started(tb testing.TB, ctx context.Context, srv *httpserver.Server) <-chan error {
	tb.Helper()
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	select {
	case <-srv.Listening():
		return done
	case err := <-done:
		tb.Fatalf("Run returned before listening: %v", err)
	case <-time.After(10 * time.Second):
		tb.Fatal("server did not start listening")
	}
	return nil
}

func get(tb testing.TB, url string) (int, string) {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

func TestServerGracefulShutdown(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	app := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "slow done")
	})
	srv, err := httpserver.New(config.HTTP{Addr: "127.0.0.1:0"},
		httpserver.Mux(health.LiveHandler(), nil, nil, app), nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := started(t, ctx, srv)
	base := "http://" + srv.Addr()
	if strings.HasSuffix(base, ":0") {
		t.Fatalf("Addr = %q, want the bound port", srv.Addr())
	}

	if code, body := get(t, base+"/healthz"); code != http.StatusOK || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Fatalf("/healthz = %d %s", code, body)
	}

	type result struct {
		code int
		body string
		err  error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		slow <- result{resp.StatusCode, string(body), err}
	}()
	<-entered
	cancel()
	// Run must wait for the in-flight request rather than return.
	select {
	case err := <-done:
		t.Fatalf("Run returned %v with a request in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)

	if r := <-slow; r.err != nil || r.code != http.StatusOK || r.body != "slow done" {
		t.Errorf("slow request = %d %q %v, want 200 slow done", r.code, r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

func TestServerShutdownTimeout(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	app := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		close(entered)
		<-release
	})
	srv, err := httpserver.New(config.HTTP{Addr: "127.0.0.1:0", ShutdownTimeout: 50 * time.Millisecond}, app, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := started(t, ctx, srv)
	go func() {
		if resp, err := http.Get("http://" + srv.Addr()); err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	cancel()
	if err := <-done; err == nil {
		t.Error("Run = nil, want a shutdown error when a request outlives the timeout")
	}
}

func TestServerPortTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	srv, err := httpserver.New(config.HTTP{Addr: ln.Addr().String()}, http.NotFoundHandler(), nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(context.Background()) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
			t.Errorf("Run = %v, want an error naming %s", err, ln.Addr())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run on a taken port did not fail fast")
	}
}

func TestServerRunTwice(t *testing.T) {
	t.Parallel()
	srv, err := httpserver.New(config.HTTP{Addr: "127.0.0.1:0"}, http.NotFoundHandler(), nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := started(t, ctx, srv)
	if err := srv.Run(ctx); err == nil {
		t.Error("second Run = nil, want error")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     config.HTTP
		handler http.Handler
	}{
		{"empty addr", config.HTTP{}, http.NotFoundHandler()},
		{"nil handler", config.HTTP{Addr: ":8080"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := httpserver.New(tt.cfg, tt.handler, nil); err == nil {
				t.Error("New: want error, got nil")
			}
		})
	}
}

// TestServerReadTimeout sends a request's headers at once and then its body a byte every 100ms: within the read
// timeout the handler gets the whole body; past it the server cuts the client off instead of waiting for the
// rest.
func TestServerReadTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		readTimeout time.Duration
		bodyBytes   int
		wantCut     bool
	}{
		{"body within the timeout", 10 * time.Second, 3, false},
		{"body trickling past the timeout", 300 * time.Millisecond, 1000, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			type read struct {
				n   int
				err error
			}
			reads := make(chan read, 1)
			app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, err := io.ReadAll(r.Body)
				reads <- read{len(body), err}
			})
			cfg := config.HTTP{Addr: "127.0.0.1:0", ReadHeaderTimeout: tt.readTimeout, ReadTimeout: tt.readTimeout}
			srv, err := httpserver.New(cfg, app, nil)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			started(t, ctx, srv)

			// The server's clock for the request starts after the connection is accepted, so after began.
			began := time.Now()
			conn, err := net.Dial("tcp", srv.Addr())
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.Close()
			if _, err := fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n", tt.bodyBytes); err != nil {
				t.Fatalf("write headers: %v", err)
			}
			stop := make(chan struct{})
			defer close(stop)
			go trickle(conn, tt.bodyBytes, 100*time.Millisecond, stop)

			var got read
			select {
			case got = <-reads:
			case <-time.After(tt.readTimeout + 10*time.Second):
				t.Fatal("the handler's read of the body did not end")
			}
			if !tt.wantCut {
				if got.err != nil || got.n != tt.bodyBytes {
					t.Fatalf("handler read %d bytes, %v; want all %d", got.n, got.err, tt.bodyBytes)
				}
				return
			}
			var ne net.Error
			if !errors.As(got.err, &ne) || !ne.Timeout() {
				t.Errorf("handler read %d bytes, %v; want a timeout", got.n, got.err)
			}
			// The cut comes at the read timeout, long before the body would have arrived.
			if took := time.Since(began); took < tt.readTimeout || got.n >= tt.bodyBytes {
				t.Errorf("cut after %v and %d bytes; want after %v, before the whole body", took, got.n, tt.readTimeout)
			}
			// The server closes the connection rather than keep it for the rest of the body.
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.Copy(io.Discard, conn); errors.As(err, &ne) && ne.Timeout() {
				t.Error("the server kept the connection open after the read timeout")
			}
		})
	}
}

// trickle writes n bytes to conn, one every interval, until they are written, a write fails or stop is closed.
func trickle(conn net.Conn, n int, interval time.Duration, stop <-chan struct{}) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for range n {
		select {
		case <-tick.C:
		case <-stop:
			return
		}
		if _, err := conn.Write([]byte("x")); err != nil {
			return
		}
	}
}
