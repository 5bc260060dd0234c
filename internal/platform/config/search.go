package config

import (
	"errors"
	"fmt"
)

// Search configures the search server client: its URL, which product it is (opensearch or
// elasticsearch), and either basic auth or AWS SigV4 signing.
type Search struct {
	URL      string `env:"OPENSEARCH_URL"`
	Flavor   string `env:"SEARCH_FLAVOR" envDefault:"opensearch"`
	Username string `env:"SEARCH_USERNAME"`
	Password Secret `env:"SEARCH_PASSWORD"`
	SigV4    bool   `env:"SEARCH_SIGV4"`
}

// Validate returns every problem joined: URL required as an absolute http(s) URL, a known
// flavor, and no password without a username.
func (s Search) Validate() error {
	var errs []error
	if s.URL == "" {
		errs = append(errs, errors.New("OPENSEARCH_URL is required"))
	} else {
		errs = append(errs, checkHTTPURL("OPENSEARCH_URL", s.URL))
	}
	switch s.Flavor {
	case "opensearch", "elasticsearch":
	default:
		errs = append(errs, fmt.Errorf("SEARCH_FLAVOR %q must be opensearch or elasticsearch", s.Flavor))
	}
	if s.Password != "" && s.Username == "" {
		errs = append(errs, errors.New("SEARCH_PASSWORD is set without SEARCH_USERNAME"))
	}
	return errors.Join(errs...)
}
