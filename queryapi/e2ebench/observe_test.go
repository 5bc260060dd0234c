package e2ebench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/schemas"
)

// kafkaRecords is what this benchmark's own consumer saw of the room topic: per MessagePosted, when the relay
// produced its record (the record's timestamp) and when the consumer read it.
type kafkaRecords struct {
	mu      sync.Mutex
	seen    map[string]kafkaSeen // by message id
	waiting map[string]bool      // posted messages not seen yet
}

// kafkaSeen is when the relay produced a message's record (its timestamp) and when this benchmark read it.
type kafkaSeen struct {
	produced, read time.Time
}

// expect tells that message was posted.
func (k *kafkaRecords) expect(message string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.seen[message]; !ok {
		k.waiting[message] = true
	}
}

// caughtUp waits until every expected message was read, or the deadline passed; it returns how many were not.
func (k *kafkaRecords) caughtUp(deadline time.Duration) int {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		k.mu.Lock()
		left := len(k.waiting)
		k.mu.Unlock()
		if left == 0 {
			return 0
		}
		select {
		case <-ctx.Done():
			return left
		case <-tick.C:
		}
	}
}

// get returns when message was produced and read.
func (k *kafkaRecords) get(message string) (kafkaSeen, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	s, ok := k.seen[message]
	return s, ok
}

// consume reads the room topic from its start in the background, until the benchmark ends.
func (p *pipeline) consume(b *testing.B) *kafkaRecords {
	b.Helper()
	cl := testkit.KafkaClient(b, kgo.ConsumeTopics(kafka.EventTopic(p.TopicPrefix, "room")),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	k := &kafkaRecords{seen: map[string]kafkaSeen{}, waiting: map[string]bool{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	b.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fetches := cl.PollFetches(ctx)
			read := time.Now()
			fetches.EachError(func(topic string, partition int32, err error) {
				if ctx.Err() == nil {
					b.Errorf("consume %s/%d: %v", topic, partition, err)
				}
			})
			fetches.EachRecord(func(r *kgo.Record) {
				var env schemas.Envelope
				if err := json.Unmarshal(r.Value, &env); err != nil || env.Type != "MessagePosted" {
					return
				}
				var posted schemas.MessagePostedV1
				if err := json.Unmarshal(env.Payload, &posted); err != nil {
					return
				}
				k.mu.Lock()
				if _, dup := k.seen[posted.MessageID]; !dup {
					k.seen[posted.MessageID] = kafkaSeen{produced: r.Timestamp, read: read}
				}
				delete(k.waiting, posted.MessageID)
				k.mu.Unlock()
			})
		}
	}()
	return k
}

// metricsScrape is the histograms of the relay, the projectors and the query API at one moment, by label, and
// the CPU seconds every service process and this benchmark's own had used by then, by name.
type metricsScrape struct {
	at    time.Time
	hists map[string]histogram
	cpu   map[string]float64
}

// series names the histograms the breakdown reads: a label, the service, the metric and a label selector.
func (p *pipeline) series() [][4]string {
	return [][4]string{
		{"relay: stream record age at its Kafka ack (ApproximateCreationDateTime to ack)", p.Relay, "relay_stream_record_age_seconds", ""},
		{"relay: produce batch to ack", p.Relay, "relay_produce_latency_seconds", ""},
		{"views projector batch", p.Projectors, "projector_batch_duration_seconds", fmt.Sprintf("projector=%q", p.Views)},
		{"search projector batch", p.Projectors, "projector_batch_duration_seconds", fmt.Sprintf("projector=%q", p.Search)},
		{"query API wait for the views", p.Query, "queryapi_consistency_wait_seconds", `model="views",outcome="applied"`},
		{"query API wait for search (after the views)", p.Query, "queryapi_consistency_wait_seconds", `model="search",outcome="applied"`},
	}
}

// scrape reads the histograms and the CPU times the breakdown uses.
func (p *pipeline) scrape(b *testing.B) metricsScrape {
	b.Helper()
	out := metricsScrape{at: time.Now(), hists: map[string]histogram{}, cpu: map[string]float64{}}
	for _, s := range p.series() {
		out.hists[s[0]] = scrapeHistogram(b, s[1], s[2], s[3])
	}
	for _, s := range p.services() {
		out.cpu[s[0]] = scrapeCounter(b, s[1], "process_cpu_seconds_total")
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		out.cpu["this benchmark"] = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	return out
}

// services names the service processes and their addresses, in the breakdown's order.
func (p *pipeline) services() [][2]string {
	return [][2]string{{"writer", p.Writer}, {"relay", p.Relay}, {"projectors", p.Projectors}, {"query API", p.Query}}
}

// breakdown returns the services' own view of the run, from their metrics' change between two scrapes. The
// relay has no metric between a stream read's return and the produce call, so stream and relay are split only
// as far as its two histograms allow: a record's age at its Kafka ack minus the produce's own latency is the
// time before the produce call (the stream poll's wait and the relay's own work).
func (p *pipeline) breakdown(before, after metricsScrape) string {
	var lines []string
	series := p.series()
	for _, s := range series {
		lines = append(lines, s[0]+" "+after.hists[s[0]].since(before.hists[s[0]]).describe())
	}
	age, okAge := after.hists[series[0][0]].since(before.hists[series[0][0]]).quantile(0.5)
	produce, okProduce := after.hists[series[1][0]].since(before.hists[series[1][0]]).quantile(0.5)
	if okAge && okProduce {
		lines = append(lines, fmt.Sprintf("hence stream poll wait + relay before the produce call ≈ p50 %s (age p50 - produce p50)",
			ms(age-produce)))
	}
	var cpu []string
	wall := after.at.Sub(before.at).Seconds()
	names := []string{}
	for _, s := range p.services() {
		names = append(names, s[0])
	}
	for _, name := range append(names, "this benchmark") {
		cpu = append(cpu, fmt.Sprintf("%s %.2f", name, (after.cpu[name]-before.cpu[name])/wall))
	}
	lines = append(lines, "CPU over the load and its drain, in cores: "+strings.Join(cpu, ", "))
	return strings.Join(lines, "; ")
}

// metricsLines fetches base's /metrics and returns its lines.
func metricsLines(b *testing.B, base string) []string {
	b.Helper()
	resp := servicetest.Get(b, base+"/metrics")
	if resp.Code != http.StatusOK {
		b.Fatalf("GET %s/metrics = %d", base, resp.Code)
	}
	return strings.Split(resp.Body, "\n")
}

// scrapeCounter fetches base's /metrics and returns the value of the unlabelled counter or gauge name.
func scrapeCounter(b *testing.B, base, name string) float64 {
	b.Helper()
	for _, line := range metricsLines(b, base) {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return 0
}

// histogram is a Prometheus histogram as scraped: cumulative counts by upper bound, ascending.
type histogram struct {
	bounds []float64
	counts []float64
}

// scrapeHistogram fetches base's /metrics and returns the histogram name of the series whose labels contain
// selector (the first such series; "" matches any).
func scrapeHistogram(b *testing.B, base, name, selector string) histogram {
	b.Helper()
	var h histogram
	for _, line := range metricsLines(b, base) {
		metric, value, ok := strings.Cut(line, " ")
		labels, isBucket := strings.CutPrefix(metric, name+"_bucket{")
		if !ok || !isBucket || !strings.Contains(labels, selector) {
			continue
		}
		_, le, ok := strings.Cut(labels, `le="`)
		if !ok {
			continue
		}
		le, _, _ = strings.Cut(le, `"`)
		bound, err1 := strconv.ParseFloat(le, 64)
		count, err2 := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err1 != nil || err2 != nil {
			continue
		}
		if len(h.bounds) > 0 && bound <= h.bounds[len(h.bounds)-1] {
			break // the next series
		}
		h.bounds, h.counts = append(h.bounds, bound), append(h.counts, count)
	}
	return h
}

// since returns the observations of h made after earlier (an earlier scrape of the same series).
func (h histogram) since(earlier histogram) histogram {
	d := histogram{bounds: h.bounds, counts: make([]float64, len(h.counts))}
	for i := range h.counts {
		d.counts[i] = h.counts[i]
		if i < len(earlier.counts) {
			d.counts[i] -= earlier.counts[i]
		}
	}
	return d
}

// quantile estimates the q-quantile as Prometheus's histogram_quantile does (linear within the bucket); ok is
// false without observations.
func (h histogram) quantile(q float64) (time.Duration, bool) {
	if len(h.counts) == 0 || h.counts[len(h.counts)-1] == 0 {
		return 0, false
	}
	rank := q * h.counts[len(h.counts)-1]
	for i, c := range h.counts {
		if c < rank {
			continue
		}
		lower, below := 0.0, 0.0
		if i > 0 {
			lower, below = h.bounds[i-1], h.counts[i-1]
		}
		upper := h.bounds[i]
		if math.IsInf(upper, 1) { // the highest finite bound is all that is known
			return seconds(lower), true
		}
		if c == below {
			return seconds(upper), true
		}
		return seconds(lower + (upper-lower)*(rank-below)/(c-below)), true
	}
	return 0, false
}

// count returns the number of observations.
func (h histogram) count() int {
	if len(h.counts) == 0 {
		return 0
	}
	return int(h.counts[len(h.counts)-1])
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// describe returns "p50 X, p99 Y (n observations)" of h.
func (h histogram) describe() string {
	p50, ok := h.quantile(0.5)
	if !ok {
		return "no observations"
	}
	p99, _ := h.quantile(0.99)
	return fmt.Sprintf("p50 %s, p99 %s (%d)", ms(p50), ms(p99), h.count())
}
