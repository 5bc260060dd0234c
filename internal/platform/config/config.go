// Package config reads a service's configuration from the environment once, into a typed struct.
//
// It is the only package that reads environment variables. Services compose the building blocks
// (HTTP, Log, AWS, Kafka, Postgres, Search) into their own struct and call Load once in main.
package config

import (
	"errors"
	"fmt"

	"github.com/caarlos0/env/v11"
)

// Validator is implemented by configuration structs that check themselves after parsing;
// Validate returns all problems joined, each naming the environment variable at fault.
type Validator interface {
	Validate() error
}

// Defaulter is implemented by configuration structs that fill defaults a struct tag cannot carry
// (e.g. a per-service HTTP address); Load calls ApplyDefaults after parsing and before Validate.
type Defaulter interface {
	ApplyDefaults()
}

// Load parses the process environment into T, with prefix prepended to every variable name,
// then applies defaults and validates; the error joins every parse and validation problem.
func Load[T any](prefix string) (T, error) {
	return load[T](prefix, env.Options{Prefix: prefix})
}

// LoadFrom is Load reading from environ instead of the process environment, for tests.
func LoadFrom[T any](prefix string, environ map[string]string) (T, error) {
	if environ == nil {
		// A nil map would make the env library fall back to the process environment.
		environ = map[string]string{}
	}
	return load[T](prefix, env.Options{Prefix: prefix, Environment: environ})
}

func load[T any](prefix string, opts env.Options) (T, error) {
	var cfg T
	var errs []error
	if err := env.ParseWithOptions(&cfg, opts); err != nil {
		errs = append(errs, err)
	}
	if d, ok := any(&cfg).(Defaulter); ok {
		d.ApplyDefaults()
	}
	if v, ok := any(&cfg).(Validator); ok {
		if err := v.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		var zero T
		return zero, fmt.Errorf("load config (prefix %q): %w", prefix, err)
	}
	return cfg, nil
}
