package config

import (
	"errors"
	"fmt"
)

// Kafka configures the Kafka clients: seed brokers (comma-separated host:port), the prefix of
// every topic name, and an optional client id.
type Kafka struct {
	Brokers     []string `env:"KAFKA_BROKERS" envSeparator:","`
	TopicPrefix string   `env:"KAFKA_TOPIC_PREFIX" envDefault:"chat"`
	ClientID    string   `env:"KAFKA_CLIENT_ID"`
}

// Validate returns every problem joined: at least one broker, each host:port, and a topic prefix.
func (k Kafka) Validate() error {
	var errs []error
	if len(k.Brokers) == 0 {
		errs = append(errs, errors.New("KAFKA_BROKERS is required"))
	}
	for i, b := range k.Brokers {
		if err := checkHostPort(b); err != nil {
			errs = append(errs, fmt.Errorf("KAFKA_BROKERS entry %d: %w", i+1, err))
		}
	}
	if k.TopicPrefix == "" {
		errs = append(errs, errors.New("KAFKA_TOPIC_PREFIX is required"))
	}
	return errors.Join(errs...)
}
