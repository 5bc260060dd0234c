package systemtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/auth/authtest"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

// waitPipeline registers an account through the writer and waits until both projections report it applied
// with no lag.
func (s *System) waitPipeline(tb testing.TB, secret string) {
	tb.Helper()
	s.registerProbe(tb, secret)
	testkit.Eventually(tb, 2*time.Minute, "both projections applied the probe with no lag (projectors /metrics)", func() bool {
		// With several projectors processes, the probe's partition belongs to one of them: the applied counts
		// add up, and every process must report no lag.
		applied := map[string]float64{}
		for _, base := range s.AllProjectors {
			m := servicetest.Get(tb, base+"/metrics")
			if m.Code != http.StatusOK {
				return false
			}
			lagLines := 0
			for _, line := range strings.Split(m.Body, "\n") {
				name, labels, value, ok := sample(line)
				switch {
				case !ok:
				case name == "projector_events_applied_total":
					applied[labels] += value
				case name == "projector_lag_records":
					lagLines++
					if value != 0 {
						return false
					}
				}
			}
			if lagLines == 0 {
				return false
			}
		}
		return applied[fmt.Sprintf(`projector=%q`, s.Views)] >= 1 && applied[fmt.Sprintf(`projector=%q`, s.Search)] >= 1
	})
}

// registerProbe registers an account of its own through the writer; it fails the test unless the writer
// answers 201.
func (s *System) registerProbe(tb testing.TB, secret string) {
	tb.Helper()
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix) // never fails: crypto/rand aborts the program instead
	id := "acct-probe-" + hex.EncodeToString(suffix)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Writer+"/v1/accounts", strings.NewReader(`{"name":"Probe"}`))
	if err != nil {
		tb.Fatalf("systemtest: probe request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+authtest.MintHS256(tb, secret, id, time.Hour))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("systemtest: register the probe account: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body) // only shown in the failure below
	if resp.StatusCode != http.StatusCreated {
		tb.Fatalf("systemtest: register the probe account: POST /v1/accounts = %d %s, want 201", resp.StatusCode, body)
	}
}

// sample splits a Prometheus text line `name{labels} value` into its parts; ok is false for comments and
// lines that do not parse.
func sample(line string) (name, labels string, value float64, ok bool) {
	if line == "" || strings.HasPrefix(line, "#") {
		return "", "", 0, false
	}
	metric, v, found := strings.Cut(line, " ")
	if !found {
		return "", "", 0, false
	}
	value, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return "", "", 0, false
	}
	name, labels, _ = strings.Cut(metric, "{")
	return name, strings.TrimSuffix(labels, "}"), value, true
}
