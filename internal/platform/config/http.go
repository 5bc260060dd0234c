package config

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// HTTP configures a service's HTTP listener; Addr has no tag default, so each service fills its
// own with WithDefaultAddr (typically from ApplyDefaults).
type HTTP struct {
	Addr              string        `env:"HTTP_ADDR"`
	ShutdownTimeout   time.Duration `env:"HTTP_SHUTDOWN_TIMEOUT" envDefault:"15s"`
	ReadHeaderTimeout time.Duration `env:"HTTP_READ_HEADER_TIMEOUT" envDefault:"5s"`
}

// WithDefaultAddr returns a copy of h whose Addr is addr when HTTP_ADDR was not set.
func (h HTTP) WithDefaultAddr(addr string) HTTP {
	if h.Addr == "" {
		h.Addr = addr
	}
	return h
}

// Validate returns every problem joined: Addr required as host:port (host may be empty), timeouts positive.
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
	return errors.Join(errs...)
}
