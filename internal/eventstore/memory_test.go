package eventstore_test

import (
	"testing"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/eventstore/eventstoretest"
)

func TestMemoryContract(t *testing.T) {
	t.Parallel()
	eventstoretest.Run(t, func(t *testing.T) eventstore.Store {
		return eventstore.NewMemoryWithClock(eventstoretest.ClockFor(t).Now)
	})
}
