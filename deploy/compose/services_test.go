package compose_test

// What the test expects of docker-compose.yml. The ports of the commands are those of their default listen
// addresses (defaultAddr in each config.go, deploy/local/run.sh); the servers' host ports are deploy/local's
// (deploy/local/stack.sh, .local/env), so the README's commands work against either stack.

// Conditions of depends_on in the compose specification.
const (
	healthy   = "service_healthy"
	completed = "service_completed_successfully"
)

// awsVars reach the AWS APIs (moto in compose).
var awsVars = []string{"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}

// command is one of the project's commands run by docker-compose.yml.
type command struct {
	// service is its name in docker-compose.yml.
	service string
	// dir is the directory of its main package: the SERVICE build argument of deploy/Dockerfile.
	dir string
	// manifest is its environment manifest, relative to the repository root.
	manifest string
	// port is the port of its default listen address, published on 127.0.0.1; 0 for the one-shot init.
	port uint32
	// needs are the variables it must be given to reach the stack.
	needs []string
	// after are the services it must start after, with the condition.
	after map[string]string
}

var commands = []command{
	{
		service: "init", dir: "deploy/stackinit", manifest: "deploy/stackinit/env.json",
		needs: append([]string{"KAFKA_BROKERS"}, awsVars...),
		after: map[string]string{"moto": healthy, "kafka": healthy},
	},
	{
		service: "writer", dir: "writer", manifest: "deploy/env/writer.json", port: 8080,
		needs: append([]string{"HTTP_ADDR", "AUTH_HS256_SECRET"}, awsVars...),
		after: map[string]string{"moto": healthy, "init": completed},
	},
	{
		service: "relay", dir: "relay", manifest: "deploy/env/relay.json", port: 8082,
		needs: append([]string{"HTTP_ADDR", "KAFKA_BROKERS"}, awsVars...),
		after: map[string]string{"moto": healthy, "kafka": healthy, "init": completed},
	},
	{
		service: "projectors", dir: "projectors", manifest: "deploy/env/projectors.json", port: 8083,
		needs: append([]string{"HTTP_ADDR", "KAFKA_BROKERS", "POSTGRES_URL", "OPENSEARCH_URL"}, awsVars...),
		after: map[string]string{"moto": healthy, "kafka": healthy, "postgres": healthy, "opensearch": healthy,
			"init": completed},
	},
	{
		service: "queryapi", dir: "queryapi", manifest: "deploy/env/queryapi.json", port: 8081,
		needs: []string{"HTTP_ADDR", "POSTGRES_URL", "OPENSEARCH_URL", "AUTH_HS256_SECRET"},
		// The projectors create the views and the search alias the queries read.
		after: map[string]string{"postgres": healthy, "opensearch": healthy, "projectors": healthy},
	},
}

// server is one of the servers of the stack.
type server struct {
	// port is the server's own port in its container; hostPort where deploy/local serves it.
	port, hostPort uint32
}

var servers = map[string]server{
	"moto":       {port: 5000, hostPort: 15000},
	"kafka":      {port: 19092, hostPort: 19092}, // the listener advertised to the host as 127.0.0.1:19092
	"opensearch": {port: 9200, hostPort: 19200},
	"postgres":   {port: 5432, hostPort: 15432},
}

// endpointVars hold the address of a server: a URL, or for KAFKA_BROKERS a list of host:port.
var endpointVars = []string{"AWS_ENDPOINT_URL", "KAFKA_BROKERS", "POSTGRES_URL", "OPENSEARCH_URL"}

// sharedVars must have one value (set, or the manifest's default) in every command that reads them: they name
// the same tables, bucket, topics, read models and token key.
var sharedVars = []string{"AUTH_HS256_SECRET", "DYNAMODB_TABLE_PREFIX", "SNAPSHOT_BUCKET", "RELAY_LEASE_TABLE",
	"KAFKA_TOPIC_PREFIX", "KAFKA_TOPIC_PARTITIONS", "PROJECTORS_VIEWS_NAME", "PROJECTORS_SEARCH_NAME",
	"AWS_REGION", "AWS_ENDPOINT_URL", "POSTGRES_URL", "OPENSEARCH_URL", "KAFKA_BROKERS"}
