package config

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// HTTP configures a service's HTTP listener; Addr has no tag default, so each service fills its
// own with WithDefaultAddr (typically from ApplyDefaults).
//
// There is no write timeout: net/http's runs from the end of the request's headers to the end of
// the response, so it would bound the handler's whole run, a query's wait for consistency
// (QUERYAPI_CONSISTENCY_TIMEOUT, up to 1m) included, and when it fires the client gets a dropped
// connection instead of an answer. Handlers bound their own work with context deadlines.
type HTTP struct {
	// Addr is the host:port to listen on; the host may be empty.
	Addr string `env:"HTTP_ADDR"`
	// ShutdownTimeout is how long in-flight requests may take to finish once shutdown begins.
	ShutdownTimeout time.Duration `env:"HTTP_SHUTDOWN_TIMEOUT" envDefault:"15s"`
	// ReadHeaderTimeout bounds the reading of a request's headers.
	ReadHeaderTimeout time.Duration `env:"HTTP_READ_HEADER_TIMEOUT" envDefault:"5s"`
	// ReadTimeout bounds the reading of a whole request, headers and body, so a client that trickles
	// a body cannot hold a connection and its goroutine without end; zero means the default, so an
	// HTTP built in code need not set it.
	ReadTimeout time.Duration `env:"HTTP_READ_TIMEOUT" envDefault:"30s"`
	// IdleTimeout is how long a keep-alive connection may wait for its next request; zero means the
	// default.
	IdleTimeout time.Duration `env:"HTTP_IDLE_TIMEOUT" envDefault:"120s"`
}

// WithDefaultAddr returns a copy of h whose Addr is addr when HTTP_ADDR was not set.
func (h HTTP) WithDefaultAddr(addr string) HTTP {
	if h.Addr == "" {
		h.Addr = addr
	}
	return h
}

// WithDefaultTimeouts returns a copy of h whose timeouts that are not positive are the defaults,
// the same as the tags': 15s shutdown, 5s read header, 30s read, 120s idle.
func (h HTTP) WithDefaultTimeouts() HTTP {
	for _, t := range []struct {
		d   *time.Duration
		def time.Duration
	}{
		{&h.ShutdownTimeout, 15 * time.Second},
		{&h.ReadHeaderTimeout, 5 * time.Second},
		{&h.ReadTimeout, 30 * time.Second},
		{&h.IdleTimeout, 120 * time.Second},
	} {
		if *t.d <= 0 {
			*t.d = t.def
		}
	}
	return h
}

// Validate returns every problem joined: Addr required as host:port (host may be empty), the
// shutdown and read header timeouts positive, the read and idle timeouts positive or zero (their
// default), and the read timeout, which covers the headers too, no shorter than the header timeout.
func (h HTTP) Validate() error {
	var errs []error
	if h.Addr == "" {
		errs = append(errs, errors.New("HTTP_ADDR is required"))
	} else if _, _, err := net.SplitHostPort(h.Addr); err != nil {
		errs = append(errs, fmt.Errorf("HTTP_ADDR %q is not host:port", h.Addr))
	}
	if h.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("HTTP_SHUTDOWN_TIMEOUT must be positive"))
	}
	if h.ReadHeaderTimeout <= 0 {
		errs = append(errs, errors.New("HTTP_READ_HEADER_TIMEOUT must be positive"))
	}
	// Zero read and idle timeouts take their defaults, so an HTTP built in code before they existed stays valid.
	if h.ReadTimeout < 0 {
		errs = append(errs, errors.New("HTTP_READ_TIMEOUT must be positive"))
	}
	if h.IdleTimeout < 0 {
		errs = append(errs, errors.New("HTTP_IDLE_TIMEOUT must be positive"))
	}
	if read := h.WithDefaultTimeouts().ReadTimeout; h.ReadTimeout >= 0 && read < h.ReadHeaderTimeout {
		errs = append(errs, fmt.Errorf("HTTP_READ_TIMEOUT (%s) must not be shorter than HTTP_READ_HEADER_TIMEOUT (%s)",
			read, h.ReadHeaderTimeout))
	}
	return errors.Join(errs...)
}
