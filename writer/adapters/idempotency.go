package adapters

import (
	"context"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
)

// IdempotencyEventstoreLookup reads recorded command responses from the event store's idempotency records.
type IdempotencyEventstoreLookup struct {
	Store eventstore.Store
}

// Lookup implements ports.IdempotencyLookup: the recorded response and request hash under key, found false when
// there is none or it expired, app.ErrUnavailable (wrapped) when the store is down.
func (l IdempotencyEventstoreLookup) Lookup(ctx context.Context, key string) ([]byte, string, bool, error) {
	rec, err := l.Store.Idempotency(ctx, key)
	if err != nil {
		return nil, "", false, storeError("look up idempotency key", err)
	}
	if rec == nil {
		return nil, "", false, nil
	}
	return rec.Response, rec.RequestHash, true, nil
}
