package config

import (
	"fmt"
	"log/slog"
)

// Log configures the service logger: a slog level (debug, info, warn, error) and a format (json or text).
type Log struct {
	Level  slog.Level `env:"LOG_LEVEL" envDefault:"info"`
	Format string     `env:"LOG_FORMAT" envDefault:"json"`
}

// Validate returns an error naming LOG_FORMAT when the format is neither json nor text.
func (l Log) Validate() error {
	switch l.Format {
	case "json", "text":
		return nil
	default:
		return fmt.Errorf("LOG_FORMAT %q must be json or text", l.Format)
	}
}
