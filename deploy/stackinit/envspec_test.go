package main

import (
	"testing"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/config/configtest"
)

// TestEnvSpec keeps env.json, the manifest docker-compose.yml's init service is checked against, equal to the
// variables Config reads; -update rewrites it.
func TestEnvSpec(t *testing.T) {
	t.Parallel()
	configtest.CheckManifest(t, "env.json", "./deploy/stackinit", config.NewManifest(name, Config{}))
}
