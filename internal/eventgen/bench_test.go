package eventgen_test

import (
	"testing"

	"github.com/cqrses-aws/pipeline/internal/eventgen"
)

// BenchmarkNext measures the generation of one event of the default mix; a million take b.N = 1000000
// (go test -run '^$' -bench Next -benchtime 1000000x ./internal/eventgen).
func BenchmarkNext(b *testing.B) {
	g := eventgen.New(eventgen.Config{Seed: 1})
	b.ReportAllocs()
	var bytes int
	for b.Loop() {
		bytes += len(g.Next().Payload)
	}
	b.ReportMetric(float64(bytes)/float64(b.N), "payload-B/event")
}
