package search_test

import (
	"testing"

	"github.com/cqrses-aws/pipeline/projectors/search"
)

// TestMixedStreamMatchesTheReference replays a random chat in batches and compares the index with the
// reference fold; then replays it all again, which must change nothing.
func TestMixedStreamMatchesTheReference(t *testing.T) {
	t.Parallel()
	eachClient(t, func(t *testing.T, cl search.Client) {
		f := newFixtureBulk(t, cl, 300)
		events := mixedStream(8, 2500, 40, 60)
		for start := 0; start < len(events); start += 500 {
			f.commit(t, events[start:min(start+500, len(events))]...)
		}
		got := f.check(t)
		if len(got.Messages) < 1000 {
			t.Fatalf("only %d messages: the stream is too small to page through", len(got.Messages))
		}
		for start := 0; start < len(events); start += 1500 {
			f.applyRaw(t, true, events[start:min(start+1500, len(events))]...)
		}
		f.check(t)
	})
}
