package views_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/readmodel"
)

// TestApplyMatchesReferenceFold applies random valid journals, delivered in random orders and random batch
// sizes, with some batches delivered twice, and compares the stored model with readmodel's fold.
func TestApplyMatchesReferenceFold(t *testing.T) {
	t.Parallel()
	for seed := range uint64(4) {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			t.Parallel()
			pool := newPool(t)
			p := newProjection(t, pool)
			target := open(t, p, 1)
			events := interleave(workload{events: 3000, rooms: 20, accounts: 40, seed: seed}.generate(t), seed)

			rng := rand.New(rand.NewPCG(seed, 3))
			want := readmodel.New()
			var prev []projection.Event
			for rest := events; len(rest) > 0; {
				n := min(len(rest), 1+rng.IntN(400))
				batch := rest[:n]
				rest = rest[n:]
				if prev != nil && rng.IntN(4) == 0 {
					applyBatch(t, target, append(prev, batch...)) // a redelivery overlapping the last batch
				} else {
					applyBatch(t, target, batch)
				}
				for _, ev := range batch {
					if err := want.Apply(ev.Envelope); err != nil {
						t.Fatal(err)
					}
				}
				prev = batch
			}
			if len(want.Messages) == 0 || len(want.Rooms) == 0 {
				t.Fatalf("degenerate workload: %d rooms, %d messages", len(want.Rooms), len(want.Messages))
			}
			assertModel(t, pool, p, 1, want)
		})
	}
}
