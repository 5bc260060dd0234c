package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
)

// checkHTTPURL reports whether raw is an absolute http(s) URL with a host. The message names
// the variable but never echoes the value, which may carry credentials.
func checkHTTPURL(name, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s is not a valid URL", name)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%s must use the http or https scheme", name)
	}
	if u.Host == "" {
		return fmt.Errorf("%s must be an absolute URL with a host", name)
	}
	return nil
}

// checkHostPort reports whether addr is host:port with a non-empty host and a port in 1..65535.
func checkHostPort(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if host == "" {
		return fmt.Errorf("%q has no host", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q has no valid port", addr)
	}
	return nil
}
