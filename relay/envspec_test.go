package main

import (
	"path/filepath"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/config/configtest"
)

// TestEnvSpec keeps deploy/env/relay.json, the manifest docker-compose.yml and the infrastructure code are
// checked against, equal to the variables Config reads; -update rewrites it.
func TestEnvSpec(t *testing.T) {
	t.Parallel()
	configtest.CheckManifest(t, filepath.Join("..", "deploy", "env", "relay.json"), "./relay", config.NewManifest("relay", Config{}))
}
