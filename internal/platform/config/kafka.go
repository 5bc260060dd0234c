package config

import (
	"errors"
	"fmt"
)

// The SASL mechanisms KAFKA_SASL_MECHANISM accepts; empty means no SASL.
const (
	// SASLAWSMSKIAM authenticates to Amazon MSK with IAM, signing with the default AWS credential chain.
	SASLAWSMSKIAM = "AWS_MSK_IAM"
	// SASLPlain sends KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD as they are (TLS required).
	SASLPlain = "PLAIN"
	// SASLScramSHA256 authenticates with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD by SCRAM-SHA-256.
	SASLScramSHA256 = "SCRAM-SHA-256"
	// SASLScramSHA512 authenticates with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD by SCRAM-SHA-512.
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// Kafka configures the Kafka clients: seed brokers (comma-separated host:port), the prefix of
// every topic name, an optional client id, and how to reach a secured cluster (TLS, SASL).
type Kafka struct {
	Brokers     []string `env:"KAFKA_BROKERS" envSeparator:","`
	TopicPrefix string   `env:"KAFKA_TOPIC_PREFIX" envDefault:"chat"`
	ClientID    string   `env:"KAFKA_CLIENT_ID"`
	// TLS dials the brokers over TLS (system roots, TLS 1.2 or later).
	TLS bool `env:"KAFKA_TLS"`
	// SASLMechanism is empty (no SASL) or one of the SASL* constants.
	SASLMechanism string `env:"KAFKA_SASL_MECHANISM"`
	// SASLUsername and SASLPassword serve PLAIN and SCRAM only.
	SASLUsername string `env:"KAFKA_SASL_USERNAME"`
	SASLPassword Secret `env:"KAFKA_SASL_PASSWORD"`
}

// Validate returns every problem joined: at least one broker, each host:port, a topic prefix, a
// known SASL mechanism, TLS for AWS_MSK_IAM and PLAIN, and credentials exactly for PLAIN and SCRAM.
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
	return errors.Join(append(errs, k.validateSASL())...)
}

func (k Kafka) validateSASL() error {
	hasCreds := k.SASLUsername != "" || k.SASLPassword != ""
	switch k.SASLMechanism {
	case "":
		if hasCreds {
			return errors.New("KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD need KAFKA_SASL_MECHANISM")
		}
		return nil
	case SASLAWSMSKIAM:
		var errs []error
		if !k.TLS {
			errs = append(errs, errors.New("KAFKA_SASL_MECHANISM=AWS_MSK_IAM needs KAFKA_TLS=true (MSK serves IAM on TLS only)"))
		}
		if hasCreds {
			errs = append(errs, errors.New("KAFKA_SASL_MECHANISM=AWS_MSK_IAM signs with AWS credentials: unset KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD"))
		}
		return errors.Join(errs...)
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
		var errs []error
		if k.SASLUsername == "" || k.SASLPassword == "" {
			errs = append(errs, fmt.Errorf("KAFKA_SASL_MECHANISM=%s needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD", k.SASLMechanism))
		}
		if k.SASLMechanism == SASLPlain && !k.TLS {
			// PLAIN sends the password as it is; SCRAM never does.
			errs = append(errs, errors.New("KAFKA_SASL_MECHANISM=PLAIN needs KAFKA_TLS=true"))
		}
		return errors.Join(errs...)
	default:
		return fmt.Errorf("KAFKA_SASL_MECHANISM %q must be empty, %s, %s, %s or %s", k.SASLMechanism,
			SASLAWSMSKIAM, SASLPlain, SASLScramSHA256, SASLScramSHA512)
	}
}
