package systemtest_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/auth/authtest"
	"github.com/cqrses-aws/pipeline/internal/platform/metrics"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/internal/systemtest"
)

// metricsSecret signs this test's tokens; the writer and the query API share it.
const metricsSecret = "metrics-test-secret-0123456789abcdef"

// TestDocumentedMetricsAreExposed runs the four services as processes, sends one command and one query through
// them, waits until both projections applied the command, and then holds each service's /metrics to the
// catalog deploy/metrics.json: every documented metric exposed with its type, help and labels, and nothing
// undocumented.
func TestDocumentedMetricsAreExposed(t *testing.T) {
	t.Parallel()
	catalog, err := metrics.ReadCatalog("../../deploy/metrics.json")
	if err != nil {
		t.Fatal(err)
	}
	sys := systemtest.Start(t, systemtest.Options{
		Name: "met", Secret: metricsSecret, Partitions: 2, LogLevel: "info",
		RelayScanInterval: 200 * time.Millisecond, RelayIdleWait: 20 * time.Millisecond, RelayLeaseTTL: 3 * time.Second,
		ProjectorsPollInterval: 200 * time.Millisecond,
		WaitPipeline:           true,
	})

	account := "acct-metrics-" + randomHex(t)
	token := authtest.MintHS256(t, metricsSecret, account, time.Hour)
	resp := call(t, http.MethodPost, sys.Writer+"/v1/accounts", token, `{"name":"Metrics"}`)
	if resp.Code != http.StatusCreated {
		t.Fatalf("POST /v1/accounts = %d %s, want 201", resp.Code, resp.Body)
	}
	var answer struct {
		ConsistencyToken string `json:"consistency_token"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &answer); err != nil || answer.ConsistencyToken == "" {
		t.Fatalf("POST /v1/accounts answered %s: want a consistency token (%v)", resp.Body, err)
	}
	resp = call(t, http.MethodGet, sys.Query+"/v1/accounts/"+account+"?consistent_with="+url.QueryEscape(answer.ConsistencyToken), token, "")
	if resp.Code != http.StatusOK || resp.Header.Get("X-Read-Model-Stale") != "" {
		t.Fatalf("GET /v1/accounts/%s = %d (stale %q) %s, want a fresh 200", account, resp.Code, resp.Header.Get("X-Read-Model-Stale"), resp.Body)
	}
	testkit.Eventually(t, time.Minute, "both projections applied the command with no lag", func() bool {
		return caughtUp(t, sys)
	})

	for service, base := range map[string]string{
		"writer": sys.Writer, "relay": sys.Relay, "projectors": sys.Projectors, "queryapi": sys.Query,
	} {
		m := servicetest.Get(t, base+"/metrics")
		if m.Code != http.StatusOK {
			t.Errorf("%s /metrics = %d, want 200", service, m.Code)
			continue
		}
		if err := catalog.CheckExposition(service, strings.NewReader(m.Body)); err != nil {
			t.Errorf("%s /metrics against deploy/metrics.json:\n%v", service, err)
		}
	}
}

// caughtUp reports whether the projectors' lag is zero on every partition and each projection applied both
// the probe account and this test's (two events at least).
func caughtUp(t *testing.T, sys *systemtest.System) bool {
	t.Helper()
	m := servicetest.Get(t, sys.Projectors+"/metrics")
	if m.Code != http.StatusOK {
		return false
	}
	applied := map[string]float64{}
	lags := 0
	for _, line := range strings.Split(m.Body, "\n") {
		series, v, ok := strings.Cut(line, " ")
		value, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			continue
		}
		name, labels, _ := strings.Cut(series, "{")
		switch name {
		case "projector_lag_records":
			lags++
			if value != 0 {
				return false
			}
		case "projector_events_applied_total":
			applied[strings.TrimSuffix(labels, "}")] = value
		}
	}
	for _, p := range []string{sys.Views, sys.Search} {
		if applied[`projector="`+p+`"`] < 2 {
			return false
		}
	}
	return lags > 0
}

// call sends a request with a bearer token (and a JSON body unless body is empty) and reads the answer; it
// fails the test on a transport error.
func call(t *testing.T, method, target, token, body string) servicetest.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var payload io.Reader
	if body != "" {
		payload = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, payload)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s %s: %v", method, target, err)
	}
	return servicetest.Response{Code: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// randomHex returns 6 random bytes in hex: the suffix that keeps this test's account its own.
func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
