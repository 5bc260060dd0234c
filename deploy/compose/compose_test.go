package compose_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// root is the repository root, relative to this package.
const root = "../.."

func TestComposeFile(t *testing.T) {
	t.Parallel()
	p, err := load(context.Background(), mustAbs(t, filepath.Join(root, "docker-compose.yml")))
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range check(p, root) {
		t.Error(problem)
	}
}

// TestComposeFileBroken checks that the checks catch each kind of mistake: every variant of docker-compose.yml
// below is wrong in one way, and the test must say so.
func TestComposeFileBroken(t *testing.T) {
	t.Parallel()
	original, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		old, new string // the first occurrence of old is replaced with new
		want     string // in a problem, or in the load error when loadFails
		loadFail bool
	}{
		{name: "unknown variable", old: "      HTTP_ADDR: 0.0.0.0:8080\n",
			new: "      HTTP_ADDR: 0.0.0.0:8080\n      SNAPSHOT_EVERYY: \"5\"\n", want: "writer: SNAPSHOT_EVERYY is not a variable"},
		{name: "another service's variable", old: "      HTTP_ADDR: 0.0.0.0:8081\n",
			new: "      HTTP_ADDR: 0.0.0.0:8081\n      KAFKA_BROKERS: kafka:9092\n", want: "queryapi: KAFKA_BROKERS is not a variable"},
		{name: "variable from the host", old: "      HTTP_ADDR: 0.0.0.0:8082\n",
			new: "      HTTP_ADDR: 0.0.0.0:8082\n      RELAY_OWNER:\n", want: "relay: RELAY_OWNER has no value"},
		{name: "needed variable missing", old: "      OPENSEARCH_URL: http://opensearch:9200\n", new: "",
			want: "projectors: OPENSEARCH_URL is not set"},
		{name: "endpoint on localhost", old: "AWS_ENDPOINT_URL: http://moto:5000", new: "AWS_ENDPOINT_URL: http://127.0.0.1:15000",
			want: "AWS_ENDPOINT_URL points at 127.0.0.1, which is no service"},
		{name: "endpoint on a port not served", old: "KAFKA_BROKERS: kafka:9092", new: "KAFKA_BROKERS: kafka:9093",
			want: "init: KAFKA_BROKERS points at kafka:9093"},
		{name: "endpoint not depended on", old: "      kafka: {condition: service_healthy}\n      postgres:",
			new: "      postgres:", want: "projectors: KAFKA_BROKERS points at kafka, which it does not depend on"},
		{name: "port on every interface", old: `"127.0.0.1:8081:8081"`, new: `"8081:8081"`,
			want: "queryapi: port 8081:8081 is published on \"\""},
		{name: "server port on every interface", old: `"127.0.0.1:15432:5432"`, new: `"15432:5432"`,
			want: "postgres: port 15432:5432 is published"},
		{name: "port not the listener's", old: "HTTP_ADDR: 0.0.0.0:8082", new: "HTTP_ADDR: 0.0.0.0:9082",
			want: "relay: publishes 8082:8082, want 8082:9082"},
		{name: "port not the local one", old: `"127.0.0.1:8083:8083"`, new: `"127.0.0.1:9083:8083"`,
			want: "projectors: publishes 9083:8083"},
		{name: "server port not the local one", old: `"127.0.0.1:19200:9200"`, new: `"127.0.0.1:9200:9200"`,
			want: "opensearch: does not publish its port 9200 on 19200"},
		{name: "listener on loopback", old: "HTTP_ADDR: 0.0.0.0:8080", new: "HTTP_ADDR: 127.0.0.1:8080",
			want: "writer: HTTP_ADDR \"127.0.0.1:8080\" listens on 127.0.0.1 only"},
		{name: "health check on another port", old: "http://127.0.0.1:8080/readyz", new: "http://127.0.0.1:8081/readyz",
			want: "writer: health check must be"},
		{name: "server without health check", old: "      test: [\"CMD-SHELL\", \"pg_isready -U chat -d chat\"]\n",
			new: "      disable: true\n", want: "postgres: no health check"},
		{name: "init not waited for", old: "init: {condition: service_completed_successfully}",
			new: "init: {condition: service_started}", want: "writer: depends on init with condition service_started"},
		{name: "queryapi before projectors", old: "      projectors: {condition: service_healthy}\n", new: "",
			want: "queryapi: does not depend on projectors"},
		{name: "waits for a server without health check", old: "init: {condition: service_completed_successfully}",
			new: "init: {condition: service_healthy}", want: "writer: waits for init to be healthy, but init has no health check"},
		{name: "wrong build argument", old: "SERVICE: relay}", new: "SERVICE: relays}",
			want: "relay: build argument SERVICE=relays is not a directory with a main package"},
		{name: "wrong dockerfile", old: "dockerfile: deploy/Dockerfile, args: {SERVICE: writer}",
			new: "dockerfile: Dockerfile, args: {SERVICE: writer}", want: "writer: dockerfile \"Dockerfile\""},
		{name: "service renamed", old: "  queryapi:\n", new: "  query-api:\n", want: "service queryapi is missing"},
		{name: "tokens signed apart", old: "AUTH_HS256_SECRET: ${AUTH_HS256_SECRET:-local-dev-secret}",
			new: "AUTH_HS256_SECRET: another-secret-of-32-bytes-len", want: "AUTH_HS256_SECRET differs between services"},
		{name: "one table prefix apart", old: "      HTTP_ADDR: 0.0.0.0:8080\n",
			new: "      HTTP_ADDR: 0.0.0.0:8080\n      DYNAMODB_TABLE_PREFIX: other\n", want: "DYNAMODB_TABLE_PREFIX differs"},
		{name: "postgres password", old: "POSTGRES_PASSWORD: chat", new: "POSTGRES_PASSWORD: secret",
			want: "projectors: POSTGRES_URL's user, password or database"},
		{name: "one-shot restarts", old: `restart: "no"`, new: "restart: on-failure",
			want: "init: restart \"on-failure\""},
		{name: "bind mount of a missing file", old: "./deploy/local/moto/serialized_server.py:",
			new: "./deploy/local/moto/server.py:", want: "moto: bind mount deploy/local/moto/server.py"},
		{name: "invalid condition", old: "condition: service_healthy", new: "condition: service_ready",
			want: "condition value must be one of", loadFail: true},
		{name: "dependency on no service", old: "      projectors: {condition: service_healthy}\n",
			new: "      projector: {condition: service_healthy}\n", want: "projector", loadFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(string(original), tt.old) {
				t.Fatalf("docker-compose.yml has no %q to break: update the variant", tt.old)
			}
			path := filepath.Join(t.TempDir(), "docker-compose.yml")
			broken := strings.Replace(string(original), tt.old, tt.new, 1)
			if err := os.WriteFile(path, []byte(broken), 0o600); err != nil {
				t.Fatal(err)
			}
			p, err := load(context.Background(), path)
			if tt.loadFail {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("load error = %v, want one mentioning %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			problems := check(p, root)
			for _, problem := range problems {
				if strings.Contains(problem, tt.want) {
					return
				}
			}
			t.Errorf("no problem mentions %q; got %q", tt.want, problems)
		})
	}
}

// TestDockerfile checks the promises deploy/Dockerfile makes: SERVICE picks the package, a static binary and the
// probe, a distroless final stage run as a non-root user.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	froms := regexp.MustCompile(`(?m)^FROM\s+(\S+)`).FindAllStringSubmatch(text, -1)
	if len(froms) < 2 || !strings.HasPrefix(froms[len(froms)-1][1], "gcr.io/distroless/static") ||
		!strings.HasSuffix(froms[len(froms)-1][1], ":nonroot") {
		t.Errorf("the final stage is not distroless static nonroot: %q", froms)
	}
	final := text[strings.LastIndex(text, "\nFROM "):]
	for _, want := range []string{"ARG SERVICE", "CGO_ENABLED=0", `"./$SERVICE"`, "./deploy/probe"} {
		if !strings.Contains(text, want) {
			t.Errorf("deploy/Dockerfile lacks %s", want)
		}
	}
	for _, want := range []string{"USER nonroot", "/out/probe", `ENTRYPOINT ["/service"]`} {
		if !strings.Contains(final, want) {
			t.Errorf("the final stage lacks %s", want)
		}
	}
	if !dockerignoreKeeps(filepath.Join(root, "deploy", "Dockerfile.dockerignore"), "deploy/probe") {
		t.Error("deploy/Dockerfile.dockerignore drops deploy/probe from the build context")
	}
}

func mustAbs(t *testing.T, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
