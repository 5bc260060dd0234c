package e2ebench

import (
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name, rate, duration string
		want                 config
		wantErr              []string
	}{
		{name: "defaults", want: config{rate: 100, duration: 2 * time.Minute}},
		{name: "set", rate: "50.5", duration: "30s", want: config{rate: 50.5, duration: 30 * time.Second}},
		{name: "malformed", rate: "fast", duration: "long", wantErr: []string{"E2E_RATE", "E2E_DURATION"}},
		{name: "out of range", rate: "0", duration: "1s", wantErr: []string{"E2E_RATE", "E2E_DURATION"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(rateVar, tc.rate)
			t.Setenv(durationVar, tc.duration)
			got, err := configFromEnv()
			if len(tc.wantErr) > 0 {
				for _, w := range tc.wantErr {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("error %v, want one naming %s", err, w)
					}
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestConfigSenders(t *testing.T) {
	t.Parallel()
	for rate, want := range map[float64]int{100: 100, 250: 250, 5: 16} {
		if got := (config{rate: rate}).senders(); got != want {
			t.Errorf("senders at %g/s = %d, want %d", rate, got, want)
		}
	}
}

// TestScheduleLateTicks: a tick no sender takes is late, not queued; every tick is either taken or late.
func TestScheduleLateTicks(t *testing.T) {
	t.Parallel()
	cfg := config{rate: 200, duration: 50 * time.Millisecond}
	if late := schedule(cfg, time.Now(), make(chan tick)); late.total() != cfg.ticks() {
		t.Errorf("with no sender: %+v late of %d ticks, want all", late, cfg.ticks())
	}

	ticks := make(chan tick)
	taken := make(chan []tick)
	go func() {
		var got []tick
		for tk := range ticks {
			got = append(got, tk)
		}
		taken <- got
	}()
	start := time.Now()
	late := schedule(cfg, start, ticks)
	close(ticks)
	got := <-taken
	if len(got)+late.total() != cfg.ticks() {
		t.Fatalf("%d taken + %+v late, want %d ticks", len(got), late, cfg.ticks())
	}
	for _, tk := range got {
		if want := start.Add(time.Duration(tk.i) * 5 * time.Millisecond); !tk.due.Equal(want) {
			t.Errorf("tick %d due %s after start, want %s", tk.i, tk.due.Sub(start), want.Sub(start))
		}
	}
}
