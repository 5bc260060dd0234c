package pipeline_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/deploy/aws/pipeline"
)

// manifest is deploy/env/<service>.json: the service's configuration variables.
type manifest struct {
	Service string `json:"service"`
	Vars    []struct {
		Name   string `json:"name"`
		Secret bool   `json:"secret"`
	} `json:"vars"`
}

func readManifest(t *testing.T, service string) manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "env", service+".json"))
	if err != nil {
		t.Fatalf("read the %s manifest: %v", service, err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decode the %s manifest: %v", service, err)
	}
	if m.Service != service || len(m.Vars) == 0 {
		t.Fatalf("the %s manifest names service %q with %d vars", service, m.Service, len(m.Vars))
	}
	return m
}

// requiredEnv are the variables each service cannot run in AWS without.
var requiredEnv = map[string][]string{
	pipeline.Writer:     {"AWS_REGION", "HTTP_ADDR", "DYNAMODB_TABLE_PREFIX", "SNAPSHOT_BUCKET", "DYNAMODB_CREATE_TABLES", "AUTH_HS256_SECRET", "CONSISTENCY_TOKEN_SECRET"},
	pipeline.Relay:      {"AWS_REGION", "HTTP_ADDR", "DYNAMODB_TABLE_PREFIX", "RELAY_LEASE_TABLE", "DYNAMODB_CREATE_TABLES", "KAFKA_BROKERS", "KAFKA_TOPIC_PREFIX", "KAFKA_TOPIC_PARTITIONS", "KAFKA_SASL_MECHANISM", "KAFKA_TLS"},
	pipeline.Projectors: {"AWS_REGION", "HTTP_ADDR", "DYNAMODB_TABLE_PREFIX", "KAFKA_BROKERS", "KAFKA_TOPIC_PREFIX", "KAFKA_TOPIC_PARTITIONS", "KAFKA_SASL_MECHANISM", "KAFKA_TLS", "OPENSEARCH_URL", "SEARCH_SIGV4", "POSTGRES_SECRET_ARN"},
	pipeline.QueryAPI:   {"AWS_REGION", "HTTP_ADDR", "OPENSEARCH_URL", "SEARCH_SIGV4", "POSTGRES_SECRET_ARN", "AUTH_HS256_SECRET", "QUERYAPI_CURSOR_SECRET", "CONSISTENCY_TOKEN_SECRET"},
}

func TestServiceEnvironmentMatchesItsManifest(t *testing.T) {
	t.Parallel()
	_, tpl := synth(t)
	found := map[string]bool{}
	for id, task := range resources(tpl, "AWS::ECS::TaskDefinition") {
		for _, c := range list(props(task)["ContainerDefinitions"]) {
			c := c.(map[string]any)
			service, _ := c["Name"].(string)
			if !slices.Contains(pipeline.Services, service) {
				continue
			}
			found[service] = true
			t.Run(service, func(t *testing.T) {
				m := readManifest(t, service)
				secret := map[string]bool{}
				for _, v := range m.Vars {
					secret[v.Name] = v.Secret
				}
				var names []string
				for _, kind := range []string{"Environment", "Secrets"} {
					for _, e := range list(c[kind]) {
						name := e.(map[string]any)["Name"].(string)
						names = append(names, name)
						isSecret, known := secret[name]
						switch {
						case !known:
							t.Errorf("%s sets %s, which is not in deploy/env/%s.json", id, name, service)
						case isSecret && kind == "Environment":
							t.Errorf("%s passes the secret %s in plain environment, not from Secrets Manager", id, name)
						}
					}
				}
				for _, name := range requiredEnv[service] {
					if !slices.Contains(names, name) {
						t.Errorf("%s does not set %s", service, name)
					}
				}
			})
		}
	}
	for _, s := range pipeline.Services {
		if !found[s] {
			t.Errorf("no task definition runs %s", s)
		}
	}
}

func TestPartitionsReachTheServicesThatCreateTopics(t *testing.T) {
	t.Parallel()
	_, tpl := synth(t)
	for _, task := range resources(tpl, "AWS::ECS::TaskDefinition") {
		for _, c := range list(props(task)["ContainerDefinitions"]) {
			c := c.(map[string]any)
			if n := c["Name"]; n != pipeline.Relay && n != pipeline.Projectors {
				continue
			}
			var got any
			for _, e := range list(c["Environment"]) {
				if e := e.(map[string]any); e["Name"] == "KAFKA_TOPIC_PARTITIONS" {
					got = e["Value"]
				}
			}
			if got != "6" {
				t.Errorf("%s: KAFKA_TOPIC_PARTITIONS = %v, want 6", c["Name"], got)
			}
		}
	}
}

// Every service exports its spans over OTLP to the SDK's default endpoint, where the collector beside it
// receives them and forwards them to X-Ray: one command's trace crosses the four services there too.
func TestSpansReachXRayThroughTheCollector(t *testing.T) {
	t.Parallel()
	_, tpl := synth(t)
	exporting, forwarding := map[any]bool{}, 0
	for _, task := range resources(tpl, "AWS::ECS::TaskDefinition") {
		var service any
		for _, c := range list(props(task)["ContainerDefinitions"]) {
			c := c.(map[string]any)
			for _, e := range list(c["Environment"]) {
				e := e.(map[string]any)
				switch {
				case e["Name"] == "OTEL_TRACES_EXPORTER" && e["Value"] == "otlp":
					service = c["Name"]
				case e["Name"] == "AOT_CONFIG_CONTENT":
					// A join of strings and the log group's name (a token): the text is in its JSON.
					raw, _ := json.Marshal(e["Value"])
					cfg := string(raw)
					if strings.Contains(cfg, "http: {endpoint: '127.0.0.1:4318'}") &&
						strings.Contains(cfg, "traces: {receivers: [otlp], exporters: [awsxray]}") {
						forwarding++
					}
				}
			}
		}
		if service != nil {
			exporting[service] = true
		}
	}
	for _, s := range pipeline.Services {
		if !exporting[s] {
			t.Errorf("%s does not export its spans (OTEL_TRACES_EXPORTER=otlp)", s)
		}
	}
	if forwarding != len(pipeline.Services) {
		t.Errorf("%d collectors forward OTLP spans to X-Ray, want one per service (%d)", forwarding, len(pipeline.Services))
	}
}

// TestOneConsistencyTokenKey: the writer signs the consistency tokens and the query API verifies them, so both
// read CONSISTENCY_TOKEN_SECRET from one and the same Secrets Manager secret.
func TestOneConsistencyTokenKey(t *testing.T) {
	t.Parallel()
	_, tpl := synth(t)
	from := map[string]string{}
	for _, task := range resources(tpl, "AWS::ECS::TaskDefinition") {
		for _, c := range list(props(task)["ContainerDefinitions"]) {
			c := c.(map[string]any)
			for _, e := range list(c["Secrets"]) {
				e := e.(map[string]any)
				if e["Name"] == "CONSISTENCY_TOKEN_SECRET" {
					b, err := json.Marshal(e["ValueFrom"])
					if err != nil {
						t.Fatal(err)
					}
					from[c["Name"].(string)] = string(b)
				}
			}
		}
	}
	w, q := from[pipeline.Writer], from[pipeline.QueryAPI]
	if w == "" || w != q {
		t.Errorf("CONSISTENCY_TOKEN_SECRET comes from %q in the writer and %q in the query API, want one secret", w, q)
	}
}

// TestEveryServiceHasAMemoryLimitUnderItsTask: each service's Go runtime gets a soft memory limit (GOMEMLIMIT)
// that fits its task's memory with the collector's reservation beside it, so that the garbage collector works
// harder before the task is killed at its memory limit.
func TestEveryServiceHasAMemoryLimitUnderItsTask(t *testing.T) {
	t.Parallel()
	_, tpl := synth(t)
	limited := map[string]bool{}
	for id, task := range resources(tpl, "AWS::ECS::TaskDefinition") {
		taskMiB, err := strconv.Atoi(fmt.Sprint(props(task)["Memory"]))
		if err != nil {
			t.Fatalf("%s: task memory %v: %v", id, props(task)["Memory"], err)
		}
		for _, c := range list(props(task)["ContainerDefinitions"]) {
			c := c.(map[string]any)
			service, _ := c["Name"].(string)
			if !slices.Contains(pipeline.Services, service) {
				continue
			}
			for _, e := range list(c["Environment"]) {
				e := e.(map[string]any)
				if e["Name"] != "GOMEMLIMIT" {
					continue
				}
				mib, err := strconv.Atoi(strings.TrimSuffix(fmt.Sprint(e["Value"]), "MiB"))
				if err != nil || !strings.HasSuffix(fmt.Sprint(e["Value"]), "MiB") {
					t.Errorf("%s: GOMEMLIMIT=%v, want <n>MiB", service, e["Value"])
					continue
				}
				if mib <= taskMiB/2 || mib > taskMiB-64 {
					t.Errorf("%s: GOMEMLIMIT %d MiB in a task of %d MiB; want over half of it and room for the collector's 64", service, mib, taskMiB)
				}
				limited[service] = true
			}
		}
	}
	for _, s := range pipeline.Services {
		if !limited[s] {
			t.Errorf("%s runs without GOMEMLIMIT", s)
		}
	}
}
