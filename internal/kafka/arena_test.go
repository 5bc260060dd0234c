package kafka_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/schemas"
)

// recordCopy is a record's content, copied out of whatever memory it lives in.
type recordCopy struct {
	Topic, Key, Value string
	Headers           []string
}

func copyOf(r *kgo.Record) recordCopy {
	c := recordCopy{Topic: r.Topic, Key: string(r.Key), Value: string(r.Value)}
	for _, h := range r.Headers {
		c.Headers = append(c.Headers, h.Key+"="+string(h.Value))
	}
	return c
}

// arenaEnvelopes returns n envelopes of every shape RecordIn handles apart: plain, with strings the JSON must
// escape (their headers are copies), without a trace context, and with a payload larger than an arena block's
// share (it gets a buffer of its own).
func arenaEnvelopes(n int) []schemas.Envelope {
	envs := make([]schemas.Envelope, 0, n)
	for i := range n {
		env := envelope()
		env.Seq = int64(i)
		env.ID = fmt.Sprintf("01J%d", i)
		switch i % 4 {
		case 1:
			env.ID, env.AggregateID, env.Type = "id<\"&>"+env.ID, "room-\u2028-\xff", "Type\n"
		case 2:
			env.TraceParent = ""
		case 3:
			if i%20 == 3 {
				env.Payload = json.RawMessage(`{"text":"` + strings.Repeat("x", 40<<10) + `"}`)
			}
		}
		envs = append(envs, env)
	}
	return envs
}

// TestRecordInArenaMatchesRecord fills an arena over several blocks, twice with a Reset between: every record
// equals the one Record builds alone, the first fill's records stay intact while the arena keeps filling, and
// a reused slot carries nothing over from its earlier record (partition, offset, timestamp).
func TestRecordInArenaMatchesRecord(t *testing.T) {
	t.Parallel()
	enc := kafka.NewEventEncoder("chat")
	envs := arenaEnvelopes(700) // past two blocks of records and many blocks of values
	want := make([]recordCopy, len(envs))
	for i := range envs {
		r, err := enc.Record(envs[i])
		if err != nil {
			t.Fatal(err)
		}
		want[i] = copyOf(r)
	}
	var arena kafka.RecordArena
	for fill := range 2 {
		recs := make([]*kgo.Record, len(envs))
		for i := range envs {
			r, err := enc.RecordIn(&arena, &envs[i])
			if err != nil {
				t.Fatal(err)
			}
			recs[i] = r
		}
		if arena.Len() != len(envs) {
			t.Errorf("fill %d: Len = %d, want %d", fill, arena.Len(), len(envs))
		}
		for i, r := range recs {
			if got := copyOf(r); fmt.Sprint(got) != fmt.Sprint(want[i]) {
				t.Fatalf("fill %d, record %d =\n%+v\nwant\n%+v", fill, i, got, want[i])
			}
			if r.Partition != 0 || r.Offset != 0 || !r.Timestamp.IsZero() {
				t.Fatalf("fill %d, record %d carries partition %d, offset %d, timestamp %v over", fill, i,
					r.Partition, r.Offset, r.Timestamp)
			}
			// What a producer sets on a record, for the next fill to clear.
			r.Partition, r.Offset, r.Timestamp = 5, 42, time.Now()
		}
		arena.Reset()
	}
}

// TestRecordInArenaBytesDoNotOverlap checks that no record's bytes are another's: overwriting one record's
// value (which its key and copied headers are slices of or follow) leaves every other record as it was, and no
// slice has room past its end for an append to reach the next record's bytes.
func TestRecordInArenaBytesDoNotOverlap(t *testing.T) {
	t.Parallel()
	enc := kafka.NewEventEncoder("chat")
	envs := arenaEnvelopes(300)
	var arena kafka.RecordArena
	recs := make([]*kgo.Record, len(envs))
	before := make([]string, len(envs))
	for i := range envs {
		r, err := enc.RecordIn(&arena, &envs[i])
		if err != nil {
			t.Fatal(err)
		}
		recs[i] = r
	}
	for i, r := range recs {
		before[i] = fmt.Sprint(copyOf(r))
		if cap(r.Value) != len(r.Value) || cap(r.Key) != len(r.Key) {
			t.Fatalf("record %d: value or key has room past its end", i)
		}
		for _, h := range r.Headers {
			if cap(h.Value) != len(h.Value) {
				t.Fatalf("record %d: header %s has room past its end", i, h.Key)
			}
		}
	}
	for i, r := range recs {
		saved := bytes.Clone(r.Value)
		for k := range r.Value {
			r.Value[k] = 'X'
		}
		for j := range recs {
			if j != i && fmt.Sprint(copyOf(recs[j])) != before[j] {
				t.Fatalf("overwriting record %d's value changed record %d", i, j)
			}
		}
		copy(r.Value, saved)
	}
}
