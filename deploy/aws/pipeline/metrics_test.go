package pipeline_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// Every alarm on a service metric names a metric the services document in deploy/metrics.json (the list their
// /metrics endpoints are tested against), so a renamed metric cannot leave an alarm watching nothing.
func TestAlarmsWatchDocumentedMetrics(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../metrics.json")
	if err != nil {
		t.Fatalf("read the metrics catalog: %v", err)
	}
	var catalog struct {
		Metrics []struct {
			Name string `json:"name"`
		} `json:"metrics"`
	}
	if err := json.Unmarshal(raw, &catalog); err != nil {
		t.Fatalf("decode the metrics catalog: %v", err)
	}
	documented := map[string]bool{}
	for _, m := range catalog.Metrics {
		documented[m.Name] = true
	}
	_, tpl := synth(t)
	watched := 0
	for id, alarm := range resources(tpl, "AWS::CloudWatch::Alarm") {
		p := props(alarm)
		ns, _ := p["Namespace"].(string)
		if !strings.HasPrefix(ns, "Pipeline/") {
			continue // an AWS metric (the load balancer's)
		}
		watched++
		if name, _ := p["MetricName"].(string); !documented[name] {
			t.Errorf("alarm %s watches %q, which deploy/metrics.json does not document", id, name)
		}
	}
	if watched == 0 {
		t.Fatal("no alarm watches a service metric")
	}
}
