package systemtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
)

// modulePath is the module whose service directories Start builds.
const modulePath = "github.com/cqrses-aws/pipeline"

// binaries builds the four services once per test binary and returns their executables by directory name.
func binaries(tb testing.TB) map[string]string {
	tb.Helper()
	root, err := moduleDir()
	if err != nil {
		tb.Fatalf("systemtest: %v", err)
	}
	bins := map[string]string{}
	for _, svc := range []string{"writer", "relay", "projectors", "queryapi"} {
		bins[svc] = servicetest.Binary(tb, filepath.Join(root, svc))
	}
	return bins
}

// moduleDir returns the directory of this module's go.mod, walking up from the working directory, so that a
// test in any package of the module finds the services; it fails when no go.mod up there declares the module.
func moduleDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && declares(mod, modulePath) {
			return dir, nil
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("read %s: %w", filepath.Join(dir, "go.mod"), err)
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod of %s in %s or above", modulePath, wd)
		}
	}
}

// declares reports whether the go.mod text mod declares the module path.
func declares(mod []byte, path string) bool {
	sc := bufio.NewScanner(bytes.NewReader(mod))
	for sc.Scan() {
		if name, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(name), `"`) == path
		}
	}
	return false
}
