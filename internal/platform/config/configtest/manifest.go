// Package configtest keeps the environment manifests (deploy/env/<service>.json) equal to the configuration
// structs they describe.
package configtest

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/platform/config"
)

var update = flag.Bool("update", false, "rewrite the environment manifest from the configuration struct")

// CheckManifest fails t when the manifest at path differs from want, the variables the configuration struct
// reads; with -update it rewrites the file first. pkg is the package's path for the command in the message.
func CheckManifest(t *testing.T, path, pkg string, want config.Manifest) {
	t.Helper()
	if len(want.Vars) == 0 {
		t.Fatal("the configuration reads no environment variable")
	}
	if *update {
		if err := os.WriteFile(path, want.JSON(), 0o644); err != nil {
			t.Fatalf("update manifest: %v", err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read manifest (create it with go test %s -run TestEnvSpec -update): %v", pkg, err)
	}
	if !bytes.Equal(got, want.JSON()) {
		t.Errorf("%s is stale (rewrite it with go test %s -run TestEnvSpec -update):\n got %s\nwant %s",
			path, pkg, got, want.JSON())
	}
}
