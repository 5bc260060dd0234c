package e2ebench

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/benchkit"
)

const (
	// secret signs the benchmark callers' tokens; the writer and the query API share it.
	secret = "e2ebench-secret-0123456789abcdef"
	// partitions is the event topics' partition count: the services' default.
	partitions = 12
	// consistencyTimeout is how long the query API waits for a consistency token: an answer stale after it
	// means the write was not visible in time.
	consistencyTimeout = 10 * time.Second
	// targetRate is the PostMessage rate wanted; the run asks for less when the probe shows the writer cannot
	// sustain it (headroom).
	targetRate = 200.0
	// runFor is how long commands are sent in the measured run; probeFor in the probe before it.
	runFor   = 30 * time.Second
	probeFor = 5 * time.Second
	// rooms is the number of rooms posted to, each by its own account, one command at a time (so posts never
	// conflict): also the most PostMessage commands in flight.
	rooms = 48
	// probeInFlight is the number of commands the probe keeps in flight, back to back: enough to keep a server
	// that runs one request at a time (the local moto) always busy.
	probeInFlight = 4
	// headroom is the share of the probe's rate the measured run asks for. At the probe's rate the local moto,
	// which runs one request at a time, is saturated: its queue grows for as long as the run lasts and the
	// relay's stream reads wait in it, so the figure would measure the run's length. At 60% it stays short.
	headroom = 0.6
	// staleHeader marks an answer that could not wait until its read model applied consistent_with.
	staleHeader = "X-Read-Model-Stale"
)

// BenchmarkRatioE2EVisible: the p99 time from a PostMessage response to the message being visible through the
// query API, in the views (GET messages with consistent_with, the message in the page) and in the search index
// (GET search for the message's own word with consistent_with, the message among the hits), while messages are
// posted at up to 200/s for 30 s. A plain figure, no reference. Its parts come from the event's Kafka record
// (timestamp: when the relay produced it) and the time this benchmark's own consumer read it: stream+relay
// (produced - response), Kafka (read - produced), projector (visible - read); the relay's and projectors'
// metrics split them further. Recorded as e2e_visible_p99 (views) and e2e_visible_search_p99.
func BenchmarkRatioE2EVisible(b *testing.B) {
	benchkit.Expect(b, "e2e_visible_p99", "e2e_visible_search_p99")
	p := startPipeline(b)
	posters := p.setupRooms(b)
	records := p.consume(b)
	for b.Loop() {
		// The probe posts back to back: the rate the writer achieves is the most it can do now.
		probe := p.load(b, posters[:probeInFlight], records, 0, probeFor)
		b.Logf("probe: %d commands in flight for %s, achieved %.1f/s (%d posts, command p50 %s p99 %s)",
			probeInFlight, probeFor, probe.rate(), len(probe.samples), ms(probe.command(0.5)), ms(probe.command(0.99)))
		rate := math.Min(targetRate, math.Round(10*headroom*probe.rate())/10)
		if rate < 0.5 {
			b.Fatalf("the writer achieved %.2f commands/s in the probe", probe.rate())
		}
		before := p.scrape(b)
		run := p.load(b, posters, records, rate, runFor)
		after := p.scrape(b)
		b.Logf("run: asked %.1f/s for %s, achieved %.1f/s (%d posts, %d ticks missed, command p50 %s p99 %s)",
			rate, runFor, run.rate(), len(run.samples), run.missed, ms(run.command(0.5)), ms(run.command(0.99)))
		views, search, err := run.report(b, records, p.breakdown(before, after))
		if err != nil {
			b.Fatal(err)
		}
		why := fmt.Sprintf("target %.0f/s; ran at %.1f/s asked = %.0f%% of the %.1f/s the writer achieved with %d commands "+
			"in flight in a %s probe (the local moto runs one request at a time); achieved %.1f/s, %d ticks missed, "+
			"command p50 %s p99 %s", targetRate, rate, 100*headroom, probe.rate(), probeInFlight, probeFor, run.rate(),
			run.missed, ms(run.command(0.5)), ms(run.command(0.99)))
		record(b, "e2e_visible_p99", views, why)
		record(b, "e2e_visible_search_p99", search, why)
	}
}

// result is one visibility figure: its p99 in ms and a note on its parts.
type result struct {
	p99  time.Duration
	note string
}

// record stores r's p99 as a plain figure: no reference, so no ratio, and no target (issue 14's targets, p99
// 300 ms in the views and 1.2 s in search, are for a declared rate of 100 commands/s, which this load is not).
func record(b *testing.B, name string, r result, why string) {
	b.Helper()
	res := benchkit.Figure(float64(r.p99.Microseconds())/1000, "ms")
	res.Note = "plain figure, no target; " + r.note + "; " + why
	benchkit.Save(b, name, res, nil)
}

// report logs the run's visibility and its parts and returns the views and search figures. A stale answer
// (not visible within consistencyTimeout) counts with its own time, at least the timeout, so a p99 above it is a
// lower bound; the parts leave it out. It fails when a question failed or a fresh answer lacked its message
// (a consistency bug, not a slow pipeline), or a posted message was not read from Kafka.
func (r run) report(b *testing.B, records *kafkaRecords, services string) (views, search result, err error) {
	b.Helper()
	var (
		totalViews, totalSearch, streamRelay, onKafka, projViews, projSearch []time.Duration
		staleViews, staleSearch                                              int
		problems                                                             []string
	)
	for _, s := range r.samples {
		if s.viewsErr != "" || s.searchErr != "" {
			problems = append(problems, fmt.Sprintf("%s in %s: views %q, search %q", s.message, s.room, s.viewsErr, s.searchErr))
			continue
		}
		k, ok := records.get(s.message)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s in %s: not read from Kafka", s.message, s.room))
			continue
		}
		totalViews = append(totalViews, s.views.Sub(s.answered))
		totalSearch = append(totalSearch, s.search.Sub(s.answered))
		streamRelay = append(streamRelay, k.produced.Sub(s.answered))
		onKafka = append(onKafka, k.read.Sub(k.produced))
		if s.viewsStale {
			staleViews++
		} else {
			projViews = append(projViews, s.views.Sub(k.read))
		}
		if s.searchStale {
			staleSearch++
		} else {
			projSearch = append(projSearch, s.search.Sub(k.read))
		}
	}
	if len(problems) > 0 {
		return result{}, result{}, fmt.Errorf("%d of %d messages: %s", len(problems), len(r.samples),
			strings.Join(problems[:min(5, len(problems))], "; "))
	}
	pct := func(d []time.Duration) string {
		return fmt.Sprintf("p50 %s p99 %s", ms(quantile(d, 0.5)), ms(quantile(d, 0.99)))
	}
	parts := []part{
		{"stream+relay (record timestamp - command response)", streamRelay},
		{"Kafka (read by the benchmark's consumer - record timestamp)", onKafka},
		{"views projector + query API (visible - read)", projViews},
		{"search projector + query API (visible - read)", projSearch},
	}
	var lines []string
	for _, p := range parts {
		lines = append(lines, p.name+": "+pct(p.d))
	}
	b.Logf("visible in the views: %s (%d stale); in search: %s (%d stale); %d messages\n  %s\n  services' metrics:\n    %s",
		pct(totalViews), staleViews, pct(totalSearch), staleSearch, len(totalViews), strings.Join(lines, "\n  "),
		strings.ReplaceAll(services, "; ", "\n    "))
	common := fmt.Sprintf("%d messages; parts: stream+relay %s, Kafka %s", len(totalViews), pct(streamRelay), pct(onKafka))
	views = result{p99: quantile(totalViews, 0.99), note: fmt.Sprintf("views (GET messages): %s, %d not visible within %s; "+
		"%s, projector+query %s; slowest part at p99: %s; services' metrics: %s", pct(totalViews), staleViews,
		consistencyTimeout, common, pct(projViews), slowest(parts[0], parts[1], parts[2]), services)}
	search = result{p99: quantile(totalSearch, 0.99), note: fmt.Sprintf("search (GET search): %s, %d not visible within %s; "+
		"%s, projector+query %s; slowest part at p99: %s", pct(totalSearch), staleSearch, consistencyTimeout, common,
		pct(projSearch), slowest(parts[0], parts[1], parts[3]))}
	return views, search, nil
}

// part is one leg of a message's way and its durations.
type part struct {
	name string
	d    []time.Duration
}

// slowest names the part with the largest p99.
func slowest(parts ...part) string {
	best, name := time.Duration(math.MinInt64), ""
	for _, p := range parts {
		if v := quantile(p.d, 0.99); v > best {
			best, name = v, p.name
		}
	}
	return name
}

// quantile returns the q-quantile of d by nearest rank; 0 for none.
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// ms formats d in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	buf := make([]byte, n)
	_, _ = rand.Read(buf) // never fails: crypto/rand aborts the program instead
	return hex.EncodeToString(buf)
}
