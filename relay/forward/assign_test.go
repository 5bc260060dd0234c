package forward

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/relay/lease"
	"github.com/cqrses-aws/pipeline/relay/stream"
)

func TestReadableFollowsLineage(t *testing.T) {
	t.Parallel()
	shards := []stream.Shard{
		{ID: "root", Closed: true}, {ID: "child", ParentID: "root"},
		{ID: "orphan", ParentID: "trimmed-away"}, {ID: "done"}, {ID: "after-done", ParentID: "done"},
	}
	cases := []struct {
		name   string
		leases map[string]*lease.Lease
		want   []string
	}{
		{"no leases: roots and orphans", nil, []string{"root", "orphan", "done"}},
		{"parent read but not finished", map[string]*lease.Lease{"root": {Checkpoint: "9"}},
			[]string{"root", "orphan", "done"}},
		{"finished parents free their children", map[string]*lease.Lease{
			"root": {Finished: true}, "done": {Finished: true},
		}, []string{"child", "orphan", "after-done"}},
	}
	for _, tc := range cases {
		var got []string
		for _, s := range readable(shards, tc.leases) {
			got = append(got, s.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: readable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestGatherJoinsWaitingPagesUpToTheShardsEnd(t *testing.T) {
	t.Parallel()
	one := func(last string, closed bool) page {
		return page{records: []*kgo.Record{{Key: []byte(last)}}, last: last, closed: closed}
	}
	pages := make(chan page, 4)
	pages <- one("2", false)
	pages <- page{} // an empty page keeps the position
	pages <- one("3", true)
	pages <- one("4", false)
	got := gather(one("1", false), pages)
	if got.last != "3" || !got.closed || len(got.records) != 3 || len(pages) != 1 {
		t.Errorf("gather = last %q closed %v with %d records, %d pages left; want 3, true, 3, 1",
			got.last, got.closed, len(got.records), len(pages))
	}
	if got := gather(one("5", false), pages); got.last != "4" || len(got.records) != 2 {
		t.Errorf("gather = %+v, want the waiting page joined", got)
	}
	close(pages)
	if got := gather(one("6", false), pages); got.last != "6" || len(got.records) != 1 {
		t.Errorf("gather on a closed channel = %+v", got)
	}

	// At most readAhead waiting pages join one batch.
	many := make(chan page, 2*readAhead)
	for i := range 2 * readAhead {
		many <- one(string(rune('a'+i)), false)
	}
	if got := gather(one("0", false), many); len(got.records) != 1+readAhead || len(many) != readAhead {
		t.Errorf("gather took %d records, left %d pages; want %d and %d", len(got.records), len(many), 1+readAhead, readAhead)
	}
}
