package systemtest_test

import (
	"testing"

	"github.com/cqrses-aws/pipeline/internal/systemtest"
)

// TestMain deletes the service binaries Start builds once the package's tests are done.
func TestMain(m *testing.M) { systemtest.Main(m) }
