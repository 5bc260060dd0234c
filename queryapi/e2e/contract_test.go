package e2e

import (
	"testing"

	"github.com/cqrses-aws/pipeline/internal/openapi"
)

// validateContract fails the test unless a query API answer is one the published OpenAPI document allows for
// its request: documented status and media type, and a body that matches the schema.
func validateContract(t *testing.T, a answer) {
	t.Helper()
	if err := openapi.ValidateResponse(a.method, a.path, a.Code, a.Header.Get("Content-Type"), a.Body); err != nil {
		t.Errorf("%s %s = %d: not as the OpenAPI document says: %v", a.method, a.path, a.Code, err)
	}
}
