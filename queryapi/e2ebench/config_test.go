package e2ebench

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"time"
)

// The declared load issue 14 sets its targets at, and the variables that change it (go test's own flags are
// awkward with ./...).
const (
	// defaultRate is the PostMessage commands per second sent when E2E_RATE is unset.
	defaultRate = 100.0
	// defaultDuration is how long they are sent when E2E_DURATION is unset.
	defaultDuration = 2 * time.Minute
	// rateVar and durationVar name the variables: a number of commands per second, a Go duration.
	rateVar, durationVar = "E2E_RATE", "E2E_DURATION"
)

// config is the declared load of one run.
type config struct {
	rate     float64       // commands per second, tick i due at start + i/rate
	duration time.Duration // how long ticks are due
}

// configFromEnv returns the load E2E_RATE and E2E_DURATION declare, with the defaults for those unset; it
// returns every malformed or out-of-range value, joined.
func configFromEnv() (config, error) {
	c := config{rate: defaultRate, duration: defaultDuration}
	var errs []error
	if v, ok := os.LookupEnv(rateVar); ok && v != "" {
		r, err := strconv.ParseFloat(v, 64)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s=%q: %w", rateVar, v, err))
		case math.IsNaN(r) || r < 1 || r > 2000:
			errs = append(errs, fmt.Errorf("%s=%q: want 1 to 2000 commands/s", rateVar, v))
		default:
			c.rate = r
		}
	}
	if v, ok := os.LookupEnv(durationVar); ok && v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s=%q: %w", durationVar, v, err))
		case d < 5*time.Second || d > time.Hour:
			errs = append(errs, fmt.Errorf("%s=%q: want 5s to 1h", durationVar, v))
		default:
			c.duration = d
		}
	}
	return c, errors.Join(errs...)
}

// ticks returns how many commands the run sends.
func (c config) ticks() int { return int(math.Round(c.rate * c.duration.Seconds())) }

// due returns when tick i is due after start.
func (c config) due(start time.Time, i int) time.Time {
	return start.Add(time.Duration(float64(i) * float64(time.Second) / c.rate))
}

// senders returns how many commands may be in flight at once: one sender per room, enough for senderSpan of
// ticks, so that a tick finds no free sender only when the commands in flight have taken senderSpan on average
// (the writer is saturated), never because one response was slow.
func (c config) senders() int { return max(16, int(math.Ceil(c.rate*senderSpan.Seconds()))) }

// declared returns "100 commands/s for 2m0s", with a remark when it is not the load the targets are set at.
func (c config) declared() string {
	s := fmt.Sprintf("%g commands/s for %s", c.rate, c.duration)
	if c.rate != defaultRate || c.duration < defaultDuration {
		s += fmt.Sprintf(" (set by %s/%s; the targets are set at %g commands/s for at least %s)",
			rateVar, durationVar, defaultRate, defaultDuration)
	}
	return s
}
