package views

import (
	"errors"
	"fmt"
	"regexp"
)

// DefaultName is the stable name of the views read model when Config.Name is empty.
const DefaultName = "views"

// maxNameLen keeps "<name>_v<version>" within PostgreSQL's 63-byte identifiers.
const maxNameLen = 48

var validName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Config configures a Projection.
type Config struct {
	// Name is the stable name: the schema of views the query API reads; targets are schemas "<Name>_v<N>".
	// Default "views".
	Name string
	// Version is the version this code builds. Default 1.
	Version int
}

// withDefaults returns c with its empty fields filled.
func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Version == 0 {
		c.Version = 1
	}
	return c
}

// Validate returns every problem of c joined, or nil.
func (c Config) Validate() error {
	var errs []error
	if !validName.MatchString(c.Name) || len(c.Name) > maxNameLen {
		errs = append(errs, fmt.Errorf("name %q: want [a-z][a-z0-9_]* of at most %d bytes", c.Name, maxNameLen))
	}
	if c.Version < 1 {
		errs = append(errs, fmt.Errorf("version %d: want 1 or more", c.Version))
	}
	return errors.Join(errs...)
}
