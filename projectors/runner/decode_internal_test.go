package runner

import (
	"reflect"
	"runtime"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/eventgen"
)

// A replay-sized batch is decoded by several goroutines and comes back as one goroutine decodes it: the same
// events and the same poison records, in the order of the records.
func TestDecodeAllKeepsTheOrderOfALargeBatch(t *testing.T) {
	t.Parallel()
	if runtime.GOMAXPROCS(0) < 2 {
		t.Fatalf("GOMAXPROCS is %d: this test needs two processors to split the batch", runtime.GOMAXPROCS(0))
	}
	r := &Runner{cfg: Config{Decode: DecodeEnvelope}}
	g := eventgen.New(eventgen.Config{Seed: 7})
	recs := make([]*kgo.Record, 5*parallelDecodeMin+3)
	for i := range recs {
		env := g.Next()
		value, err := env.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if i%97 == 0 {
			value = value[:len(value)/2] // poison
		}
		recs[i] = &kgo.Record{Topic: "t", Partition: int32(i % 12), Offset: int64(i), Key: []byte(env.AggregateID), Value: value}
	}
	got := r.decodeAll(recs)
	if len(got) != len(recs) {
		t.Fatalf("%d decoded of %d records", len(got), len(recs))
	}
	poison := 0
	for i, rec := range recs {
		want := r.decodeRecord(rec)
		if got[i].rec != rec || !reflect.DeepEqual(got[i].event, want.event) || (got[i].err == nil) != (want.err == nil) {
			t.Fatalf("record %d decoded as %+v, want %+v", i, got[i], want)
		}
		if got[i].err != nil {
			poison++
		}
	}
	if want := (len(recs) + 96) / 97; poison != want {
		t.Errorf("%d poison records, want %d", poison, want)
	}
}
