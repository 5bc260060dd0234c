package adapters_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/schemas"
	"github.com/cqrses-aws/pipeline/writer/adapters"
	"github.com/cqrses-aws/pipeline/writer/domain"
)

// TestEveryDomainEventHasItsSchema holds the writer to the published contract: the domain emits exactly the
// catalogue's event types, each at its current version, and every payload it encodes validates.
func TestEveryDomainEventHasItsSchema(t *testing.T) {
	t.Parallel()
	if got, want := slices.Sorted(slices.Values(domain.EventTypes())), schemas.Types(); !slices.Equal(got, want) {
		t.Fatalf("domain event types %v, schema catalogue %v", got, want)
	}
	samples := domain.SampleEvents()
	covered := map[string]bool{}
	for _, ev := range samples {
		covered[ev.EventType()] = true
		if v, ok := schemas.Current(ev.EventType()); !ok || v != ev.EventVersion() {
			t.Errorf("%s: domain version %d, schema current %d (known %v)", ev.EventType(), ev.EventVersion(), v, ok)
			continue
		}
		payload, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		aggType, _ := domain.AggregateTypeOf(ev.EventType())
		aggID := "alice"
		if aggType == domain.AggregateTypeRoom {
			aggID = "room-01JD5Z7Q0000000000000000RR"
		}
		env := schemas.Envelope{
			ID: adapters.NewID(), Type: ev.EventType(), Version: ev.EventVersion(), AggregateType: aggType,
			AggregateID: aggID, Seq: 1, OccurredAt: time.Now().UTC(), CorrelationID: "req-1",
			CausationID: adapters.NewID(), CommandID: adapters.NewID(), Payload: payload,
		}
		if err := schemas.Validate(env); err != nil {
			t.Errorf("%s: the payload the domain encodes is refused by its schema: %v\n%s", ev.EventType(), err, payload)
		}
	}
	if len(covered) != len(domain.EventTypes()) {
		t.Errorf("SampleEvents covers %d of %d event types", len(covered), len(domain.EventTypes()))
	}
}
