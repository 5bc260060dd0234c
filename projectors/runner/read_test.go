package runner_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	platformconfig "github.com/cqrses-aws/pipeline/internal/platform/config"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/runner"
	"github.com/cqrses-aws/pipeline/schemas"
)

// The reader reads every partition of the horizon from its start to the horizon's offset, in order, hands over
// only the wanted types, and skips a record that is not an event.
func TestReaderReadsUpToTheHorizon(t *testing.T) {
	t.Parallel()
	prefix := testkit.EventTopics(t, 3)
	produce(t, prefix, history(prefix, 6, 5)...) // AccountRegistered at seq 1, AccountRenamed after
	topic := kafka.EventTopic(prefix, schemas.AggregateTypeAccount)
	produceRaw(t, &kgo.Record{Topic: topic, Key: []byte("x"), Value: []byte("{not json")})
	produce(t, prefix, history(prefix+"-late", 6, 2)...) // after the horizon

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ends, err := kadm.NewClient(testkit.KafkaClient(t)).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("end offsets: %v", err)
	}
	// The horizon: the end of each partition before the late events, as the supervisor would have read it.
	horizon := projection.Offsets{}
	late := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { late[o.Partition] = o.Offset })
	all := readAll(t, ctx, testkit.MustStack(t).Kafka, projection.Offsets{topic: late}, nil)
	for _, e := range all {
		if !strings.HasPrefix(e.AggregateID, prefix+"-late") && e.Offset+1 > horizon[topic][e.Partition] {
			horizon.Set(topic, e.Partition, e.Offset+1)
		}
	}
	if len(all) != 6*5+6*2 {
		t.Fatalf("read %d events to the end, want %d (the record that is not an event skipped)", len(all), 6*5+6*2)
	}

	got := readAll(t, ctx, testkit.MustStack(t).Kafka, horizon, []string{schemas.TypeAccountRenamed})
	seqs := map[string][]int64{}
	for _, e := range got {
		if e.Type != schemas.TypeAccountRenamed || e.Offset >= horizon[topic][e.Partition] {
			t.Fatalf("read %s at offset %d, beyond the horizon %v or not wanted", e.Type, e.Offset, horizon)
		}
		seqs[e.AggregateID] = append(seqs[e.AggregateID], e.Seq)
	}
	for a := range 6 {
		id := fmt.Sprintf("%s-acct-%d", prefix, a)
		if !slices.Equal(seqs[id], []int64{2, 3, 4, 5}) {
			t.Errorf("%s: read seqs %v, want the renames 2..5 in order", id, seqs[id])
		}
	}
	if len(seqs) != 6 {
		t.Errorf("read the renames of %d accounts, want 6 (none of the late ones)", len(seqs))
	}
}

func readAll(t *testing.T, ctx context.Context, cfg platformconfig.Kafka, until projection.Offsets, types []string) []projection.Event {
	t.Helper()
	var out []projection.Event
	err := runner.Reader(cfg)(ctx, until, types, func(e projection.Event) error {
		out = append(out, e)
		return nil
	})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return out
}
