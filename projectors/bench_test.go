package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/benchkit"
	"github.com/cqrses-aws/pipeline/internal/eventgen"
	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/readmodel"
	"github.com/cqrses-aws/pipeline/projectors/search"
	"github.com/cqrses-aws/pipeline/projectors/views"
)

// The replay benchmarks' history: a million events of eventgen's default mix (about 70% MessagePosted) over
// 10,000 live rooms and 20,000 accounts, in 12 partitions per event topic.
const (
	replayEvents     = 1_000_000
	replayPartitions = 12
	replayAccounts   = 20_000
	replayRooms      = 10_000
	// replayRounds is two: the rebuild and the reference alternate which goes first (benchkit.Compare), and the
	// result is the worse round's (the median of two), its spread shown beside it.
	replayRounds = 2
	// replayTimeout bounds the fixture's generation and one reference run.
	replayTimeout = 6 * time.Minute
	// The subjects' deadlines: a rebuild still running then is killed, and its result is recorded as failed
	// (a miss, which fails `make bench`) with the time so far and how many events it applied.
	viewsDeadline  = 3 * time.Minute
	searchDeadline = 4 * time.Minute
	// rssBudgetMiB is the peak resident memory every rebuild process must stay under.
	rssBudgetMiB = 256
	// rebuildMemoryLimit is the Go runtime's soft memory limit (GOMEMLIMIT) the rebuild processes run with, as a
	// process given a budget of rssBudgetMiB should be: the budget less 48 MiB for what the limit does not count
	// (the binary's pages, memory freed but not yet returned). Without it the garbage collector lets the heap
	// grow to twice what is live, and the search rebuild, which holds about 150 MiB live (a batch of 20,000
	// decoded events and their records, the look-ahead, the parsers' caches), peaked at 390 to 420 MiB.
	rebuildMemoryLimit = "208MiB"
)

// TestMain runs the tests and benchmarks, then deletes the binaries they built and the topics of the replay
// benchmarks' history, which outlive any one benchmark.
func TestMain(m *testing.M) {
	code := m.Run()
	servicetest.RemoveBinaries() // the binaries the process tests built
	if err := closeReplayFixture(); err != nil {
		fmt.Fprintln(os.Stderr, "replay fixture cleanup:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// BenchmarkRatioReplayViews: wall time of `projectors rebuild` of the Postgres views over the million events
// (a process of the built binary, from its start to "version 1 is live") over an in-process reference that
// consumes the same topics from offset zero, folds them with readmodel and COPYs only the final rows into the
// same tables. Target ratio <= 1.3. Each round reads the rebuilt views back and checks their checksum against
// the reference fold's. Beside it: replay_views_rate (events/s), replay_views_peak_rss_mib (budget 256 MiB) and
// replay_views_floor, the rebuild over the floor (consume without decoding, COPY the final rows).
func BenchmarkRatioReplayViews(b *testing.B) {
	benchkit.Expect(b, "replay_views", "replay_views_rate", "replay_views_peak_rss_mib", "replay_views_floor")
	f := sharedReplay(b)
	pool := benchPool(b)
	sides := replaySides{
		model:     "views",
		rebuild:   func(name string) (processRun, *readmodel.Model, error) { return f.rebuildViews(b, pool, name) },
		reference: func(name string) (time.Duration, *readmodel.Model, error) { return referenceViews(b, f, pool, name) },
		floor: func(name string, fold *readmodel.Model) (time.Duration, error) {
			return floorViews(b, f, pool, name, fold)
		},
		contents: func(m *readmodel.Model) *readmodel.Model { return m },
	}
	for b.Loop() {
		out, err := sides.compare(b)
		out.rebuild.Target = benchkit.RatioAtMost(1.3)
		out.rebuild.Note = fmt.Sprintf("%d rounds, alternating; projectors rebuild (process, batches of %s) of %d events "+
			"(%d accounts, %d rooms, %d partitions; generated in %s) vs in-process consume+fold+COPY of the final rows; "+
			"contents checked by checksum against the fold", replayRounds, buildBatchSize(), replayEvents,
			replayAccounts, replayRooms, replayPartitions, f.generated.Round(time.Second))
		out.save(b, err)
	}
}

// BenchmarkRatioReplaySearch: wall time of `projectors rebuild` of the search index over the million events (a
// process of the built binary) over an in-process reference that consumes and folds the same events, then
// bulk-indexes only the final message documents with the same client, bulk size and requests in flight into a
// fresh index of the same mappings. Target ratio <= 1.15. Each round reads the rebuilt index back (messages,
// account and room names) and checks its checksum against the reference fold's. Beside it, as for the views:
// replay_search_rate, replay_search_peak_rss_mib and replay_search_floor.
func BenchmarkRatioReplaySearch(b *testing.B) {
	benchkit.Expect(b, "replay_search", "replay_search_rate", "replay_search_peak_rss_mib", "replay_search_floor")
	f := sharedReplay(b)
	cl := search.NewOpenSearchClient(testkit.OpenSearch(b))
	sides := replaySides{
		model:     "search",
		rebuild:   func(name string) (processRun, *readmodel.Model, error) { return f.rebuildSearch(b, cl, name) },
		reference: func(name string) (time.Duration, *readmodel.Model, error) { return referenceSearch(b, f, cl, name) },
		floor: func(name string, fold *readmodel.Model) (time.Duration, error) {
			return floorSearch(b, f, cl, name, fold)
		},
		contents: searchContents,
	}
	for b.Loop() {
		out, err := sides.compare(b)
		out.rebuild.Target = benchkit.RatioAtMost(1.15)
		out.rebuild.Note = fmt.Sprintf("%d rounds, alternating; projectors rebuild (process, batches of %s) of %d events "+
			"vs in-process consume+fold+bulk index of the final message docs (bulks of %d, %d in flight); contents "+
			"checked by checksum against the fold", replayRounds, buildBatchSize(), replayEvents, refBulkSize, refBulkParallel)
		out.save(b, err)
	}
}

// searchContents keeps of a fold what the search index holds: every message, every registered account's name
// and every live room's name, with their versions (no members, no last message time).
func searchContents(m *readmodel.Model) *readmodel.Model {
	out := &readmodel.Model{Accounts: m.Accounts, Messages: m.Messages, Rooms: map[string]readmodel.Room{}}
	for id, r := range m.Rooms {
		out.Rooms[id] = readmodel.Room{ID: r.ID, Name: r.Name, Version: r.Version}
	}
	return out
}

// replaySides are the three runs one projection's replay benchmark compares, each into a fresh target called
// name: rebuild runs a `projectors rebuild` process and reads the rebuilt model back; reference consumes, folds
// and writes the final rows in-process, and returns its time and the fold; floor consumes the topics without
// decoding and writes a fold's final rows, and returns its time. contents keeps of a fold what the projection
// stores, to compare with what the rebuild stored.
type replaySides struct {
	model     string
	rebuild   func(name string) (processRun, *readmodel.Model, error)
	reference func(name string) (time.Duration, *readmodel.Model, error)
	floor     func(name string, fold *readmodel.Model) (time.Duration, error)
	contents  func(*readmodel.Model) *readmodel.Model
}

// replayOutcome is what compare measured: the rebuild's seconds over the reference's, the rebuild's seconds
// over the floor's, and every rebuild process that ran.
type replayOutcome struct {
	model          string
	rebuild, floor benchkit.Result
	runs           []processRun
}

// compare runs replayRounds rounds of the rebuild against the reference, alternating which goes first, with the
// floor measured after each reference. It returns an error (the result is then a miss, not a figure) when a
// measurement failed, a rebuild was killed at its deadline (wrapping errKilled), or a rebuilt model's checksum
// differs from the reference fold's (with the first differences).
func (s replaySides) compare(b *testing.B) (replayOutcome, error) {
	b.Helper()
	out := replayOutcome{model: s.model}
	var (
		want           string           // the checksum of contents(fold)
		wantModel      *readmodel.Model // contents(fold), for Diff
		walls, floors  []float64
		differ         []error
		foldsDisagreed error
	)
	subject := func() (float64, error) {
		run, got, err := s.rebuild("bench_" + s.model + "_" + randomHex(b))
		if err != nil {
			return 0, err
		}
		out.runs = append(out.runs, run)
		b.Logf("%s rebuild: %s", s.model, run)
		if run.killed {
			return 0, fmt.Errorf("%s rebuild %w: %s", s.model, errKilled, run)
		}
		// The reference runs first in the first round, so the fold's checksum is known here.
		if sum := got.Checksum(); sum != want {
			differ = append(differ, fmt.Errorf("round %d: the rebuilt %s differ from the fold (checksum %.12s, want %.12s):\n%s",
				len(walls)+1, s.model, sum, want, strings.Join(got.Diff(wantModel), "\n")))
		}
		walls = append(walls, run.wall.Seconds())
		return run.wall.Seconds(), nil
	}
	ref := func() (float64, error) {
		elapsed, fold, err := s.reference("bench_" + s.model + "_ref_" + randomHex(b))
		if err != nil {
			return 0, err
		}
		sum := s.contents(fold).Checksum()
		if want != "" && sum != want {
			foldsDisagreed = fmt.Errorf("two folds of the same history differ: checksum %.12s, then %.12s", want, sum)
		}
		want, wantModel = sum, s.contents(fold)
		floor, err := s.floor("bench_"+s.model+"_floor_"+randomHex(b), fold)
		if err != nil {
			return 0, err
		}
		floors = append(floors, floor.Seconds())
		return elapsed.Seconds(), nil
	}
	r, err := benchkit.Compare(replayRounds, subject, ref, benchkit.Over)
	r.Unit = "s"
	out.rebuild = r
	if err != nil {
		return out, err
	}
	out.floor, err = benchkit.Paired(walls, floors, benchkit.Over)
	out.floor.Unit = "s"
	return out, errors.Join(err, foldsDisagreed, errors.Join(differ...))
}

// save records the outcome under replay_<model> (err makes it a miss), then the rate, the peak RSS and the
// rebuild over the floor. The peak RSS of a killed or failed rebuild is recorded all the same; the rate and the
// floor only when every round finished and matched.
func (o replayOutcome) save(b *testing.B, err error) {
	b.Helper()
	name := "replay_" + o.model
	if len(o.runs) > 0 {
		var peakKiB int64
		for _, r := range o.runs {
			peakKiB = max(peakKiB, r.maxRSSKiB)
		}
		rss := benchkit.Figure(float64(peakKiB)/1024, "MiB")
		rss.Target = benchkit.ValueAtMost(rssBudgetMiB)
		rss.Note = fmt.Sprintf("peak RSS (VmHWM, sampled) of the projectors rebuild process of the %s, highest of %d "+
			"run(s); budget %d MiB", o.model, len(o.runs), rssBudgetMiB)
		benchkit.Save(b, name+"_peak_rss_mib", rss, nil)
	}
	if err == nil {
		rate := benchkit.Result{Value: replayEvents / o.rebuild.Value, Reference: replayEvents / o.rebuild.Reference,
			Rounds: o.rebuild.Rounds, Unit: "events/s",
			Note: "events/s of projectors rebuild of the " + o.model + " over the reference's (higher is better; no " +
				"target: " + name + " holds it)"}
		rate.Ratio = benchkit.Over(rate.Value, rate.Reference)
		rate.RatioMin, rate.RatioMax = 1/o.rebuild.RatioMax, 1/o.rebuild.RatioMin
		benchkit.Save(b, name+"_rate", rate, nil)
		o.floor.Note = "seconds of projectors rebuild of the " + o.model + " over the floor: consume the same " +
			"records without decoding, then write only the final rows (" + map[string]string{"views": "COPY",
			"search": "bulk, as the reference"}[o.model] + "); how far from what this machine can do (no target)"
		benchkit.Save(b, name+"_floor", o.floor, nil)
	}
	// Last, so that the benchmark's reported ratio metric is this one.
	benchkit.Save(b, name, o.rebuild, err)
}

// replayFixture is the history every replay benchmark of the run reads: its topic prefix, the projectors
// binary, and how long generating the history into Kafka took.
type replayFixture struct {
	st        testkit.Stack
	adm       *kadm.Client
	prefix    string
	bin       string
	generated time.Duration

	foldMu sync.Mutex
	fold   *readmodel.Model // the fold of the history, once a reference or foldOnce has made it
}

// keepFold keeps m, a fold of the whole history, for foldOnce.
func (f *replayFixture) keepFold(m *readmodel.Model) {
	f.foldMu.Lock()
	defer f.foldMu.Unlock()
	f.fold = m
}

// foldOnce returns the fold of the history: the one a reference made, or a new one. Callers must not change it.
func (f *replayFixture) foldOnce(ctx context.Context) (*readmodel.Model, error) {
	f.foldMu.Lock()
	defer f.foldMu.Unlock()
	if f.fold == nil {
		m, err := foldTopics(ctx, f.st, f.prefix)
		if err != nil {
			return nil, err
		}
		f.fold = m
	}
	return f.fold, nil
}

var (
	replayOnce    sync.Once
	replayShared  *replayFixture
	replayErr     error
	replayMu      sync.Mutex
	replayClosers []func() error // run last first by closeReplayFixture
)

// sharedReplay returns the run's replay fixture, generating it on the first call.
func sharedReplay(b *testing.B) *replayFixture {
	b.Helper()
	st := testkit.MustStack(b)
	bin := servicetest.Binary(b, ".")
	replayOnce.Do(func() {
		replayShared, replayErr = newReplayFixture(b, st, bin)
		if replayErr != nil {
			replayErr = fmt.Errorf("replay fixture: %w", replayErr)
		}
	})
	if replayErr != nil {
		b.Fatal(replayErr)
	}
	return replayShared
}

// onCloseReplay adds fn to what closeReplayFixture runs.
func onCloseReplay(fn func() error) {
	replayMu.Lock()
	defer replayMu.Unlock()
	replayClosers = append(replayClosers, fn)
}

// closeReplayFixture deletes the fixture's topics; it returns every failure joined.
func closeReplayFixture() error {
	replayMu.Lock()
	defer replayMu.Unlock()
	var errs []error
	for i := len(replayClosers) - 1; i >= 0; i-- {
		errs = append(errs, replayClosers[i]())
	}
	replayClosers = nil
	return errors.Join(errs...)
}

// newReplayFixture creates the event topics under a fresh prefix and produces the history into them with a
// producer tuned for bulk loads; bin is the projectors binary.
func newReplayFixture(tb testing.TB, st testkit.Stack, bin string) (*replayFixture, error) {
	f := &replayFixture{st: st, bin: bin, prefix: "bench.replay." + randomHex(tb)}
	admin, err := kafka.NewClient(st.Kafka)
	if err != nil {
		return nil, fmt.Errorf("kafka admin client: %w", err)
	}
	onCloseReplay(func() error { admin.Close(); return nil })
	adm := kadm.NewClient(admin)
	f.adm = adm
	ctx, cancel := context.WithTimeout(context.Background(), replayTimeout)
	defer cancel()
	topics := kafka.EventTopics(f.prefix, replayPartitions)
	if err := kafka.EnsureTopics(ctx, adm, topics...); err != nil {
		return nil, err
	}
	onCloseReplay(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		names := make([]string, 0, len(topics))
		for _, t := range topics {
			names = append(names, t.Name)
		}
		resps, err := adm.DeleteTopics(ctx, names...)
		if err == nil {
			err = resps.Error()
		}
		if err != nil {
			return fmt.Errorf("delete topics %v: %w", names, err)
		}
		return nil
	})
	producer, err := kafka.NewClient(st.Kafka, kgo.ProducerLinger(5*time.Millisecond),
		kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(100_000))
	if err != nil {
		return nil, fmt.Errorf("kafka producer: %w", err)
	}
	defer producer.Close()
	gen := eventgen.New(eventgen.Config{Seed: 1, Accounts: replayAccounts, Rooms: replayRooms})
	start := time.Now()
	if err := eventgen.ProduceN(ctx, producer, f.prefix, gen, replayEvents); err != nil {
		return nil, fmt.Errorf("produce %d events: %w", replayEvents, err)
	}
	f.generated = time.Since(start)
	ends, err := endOffsets(ctx, adm, f.prefix)
	if err != nil {
		return nil, err
	}
	if n := sumOffsets(ends); n != replayEvents {
		return nil, fmt.Errorf("the topics of %s hold %d events, want %d", f.prefix, n, replayEvents)
	}
	tb.Logf("generated %d events into %s in %s (%.0f events/s)", replayEvents, f.prefix,
		f.generated.Round(time.Millisecond), replayEvents/f.generated.Seconds())
	return f, nil
}

// env is the environment of a projectors process on the fixture's topics with the given projection names.
func (f *replayFixture) env(viewsName, searchName string) []string {
	st := f.st
	env := []string{
		"PATH=" + os.Getenv("PATH"), "LOG_LEVEL=info", "GOMEMLIMIT=" + rebuildMemoryLimit,
		"KAFKA_BROKERS=" + strings.Join(st.Kafka.Brokers, ","), "KAFKA_TOPIC_PREFIX=" + f.prefix,
		fmt.Sprintf("KAFKA_TOPIC_PARTITIONS=%d", replayPartitions),
		"POSTGRES_URL=" + st.Postgres.URL.Reveal(), "OPENSEARCH_URL=" + st.Search.URL,
		"AWS_ENDPOINT_URL=" + st.AWS.EndpointURL, "AWS_REGION=" + st.AWS.Region,
		"AWS_ACCESS_KEY_ID=" + st.AWS.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + st.AWS.SecretAccessKey.Reveal(),
		// The journal fills gaps only, and the generated history has none.
		"DYNAMODB_TABLE_PREFIX=none",
		"PROJECTORS_VIEWS_NAME=" + viewsName, "PROJECTORS_SEARCH_NAME=" + searchName,
	}
	if st.Search.Username != "" {
		env = append(env, "SEARCH_USERNAME="+st.Search.Username, "SEARCH_PASSWORD="+st.Search.Password.Reveal())
	}
	return env
}

// buildBatchSize returns the batch size a rebuild runs with: the configuration's default.
func buildBatchSize() string {
	f, _ := reflect.TypeFor[ProjectorsConfig]().FieldByName("BuildBatchSize")
	return f.Tag.Get("envDefault")
}

// randomHex returns 8 random hexadecimal digits, for names unique to one round.
func randomHex(tb testing.TB) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("random name: %v", err)
	}
	return hex.EncodeToString(b)
}

// processRun is one finished projectors process: its wall time, peak resident memory and output, and whether
// it was killed at its deadline, with how many events it had applied by then.
type processRun struct {
	wall      time.Duration
	cpu       time.Duration // user + system CPU time the process used
	maxRSSKiB int64         // the process's peak resident set (VmHWM), in KiB
	out       string
	killed    bool
	applied   int64 // the consumer group's committed offsets, summed, when killed
}

// String returns the run's wall time and peak RSS, and how far it got when it was killed.
func (r processRun) String() string {
	s := fmt.Sprintf("%s (CPU %s), peak RSS %.0f MiB", r.wall.Round(time.Millisecond), r.cpu.Round(time.Second),
		float64(r.maxRSSKiB)/1024)
	if r.killed {
		s += fmt.Sprintf(", KILLED at its deadline with %d of %d events applied", r.applied, replayEvents)
	}
	return s
}

// errKilled marks a process killed at its deadline.
var errKilled = errors.New("killed at its deadline")

// runProjectors runs the binary with args and env until it exits, or kills it once deadline has passed (the
// error then wraps errKilled); it fails when the process does not exit with 0, with the end of its output.
func runProjectors(deadline time.Duration, bin string, env []string, args ...string) (processRun, error) {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	// At the deadline SIGTERM first, so that the process leaves its consumer group; SIGKILL 15 s later.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return processRun{}, fmt.Errorf("start projectors: %w", err)
	}
	// The peak is the child's own VmHWM, sampled until it exits: getrusage's ru_maxrss would also count the
	// memory of this test process, which the child shares between fork and exec.
	peak := make(chan int64, 1)
	stopSampling := make(chan struct{})
	go func() { peak <- sampleHWM(cmd.Process.Pid, stopSampling) }()
	err := cmd.Wait()
	close(stopSampling)
	run := processRun{wall: time.Since(start), out: out.String(), maxRSSKiB: <-peak}
	if st := cmd.ProcessState; st != nil {
		run.cpu = st.UserTime() + st.SystemTime()
	}
	if err != nil && ctx.Err() != nil {
		run.killed = true
		return run, fmt.Errorf("projectors %s after %s: %w", strings.Join(args, " "), run.wall, errKilled)
	}
	if err != nil {
		return run, fmt.Errorf("projectors %s after %s: %w\n%s", strings.Join(args, " "), run.wall, err, tail(run.out, 4000))
	}
	return run, nil
}

// sampleHWM reads the VmHWM (peak resident set, KiB) of process pid every 100 ms until stop is closed or the
// process is gone, and returns the last value read.
func sampleHWM(pid int, stop <-chan struct{}) int64 {
	var hwm int64
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return hwm
		}
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				if kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64); err == nil {
					hwm = max(hwm, kib)
				}
			}
		}
		select {
		case <-stop:
			return hwm
		case <-tick.C:
		}
	}
}

// finish completes the run of a rebuild of name into version: a run killed at its deadline is no failure, and
// gets the number of events it applied; a finished one must have said that version is live.
func (f *replayFixture) finish(name string, version int, run processRun, err error) (processRun, error) {
	if errors.Is(err, errKilled) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		run.applied, err = f.committed(ctx, projection.GroupID(name, version))
		return run, err
	}
	if err != nil {
		return run, err
	}
	if want := fmt.Sprintf("%s: version %d is live", name, version); !strings.Contains(run.out, want) {
		return run, fmt.Errorf("rebuild of %s did not print %q:\n%s", name, want, tail(run.out, 4000))
	}
	return run, nil
}

// committed returns the sum of group's committed offsets on the fixture's topics: the events it applied.
func (f *replayFixture) committed(ctx context.Context, group string) (int64, error) {
	offsets, err := f.adm.FetchOffsets(ctx, group)
	if err == nil {
		err = offsets.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("offsets of %s: %w", group, err)
	}
	var n int64
	offsets.Each(func(o kadm.OffsetResponse) {
		if strings.HasPrefix(o.Topic, f.prefix+".") && o.At > 0 {
			n += o.At
		}
	})
	return n, nil
}

// rebuildViews runs `projectors rebuild name` of the views as a process, reads back the version it made live,
// then drops every schema, group and topic the rebuild made.
func (f *replayFixture) rebuildViews(b *testing.B, pool *pgxpool.Pool, name string) (processRun, *readmodel.Model, error) {
	b.Helper()
	p, err := views.New(pool, views.Config{Name: name})
	if err != nil {
		return processRun{}, nil, err
	}
	cleanup := func() error { return f.dropViews(pool, p) }
	b.Cleanup(func() {
		if err := cleanup(); err != nil {
			b.Error(err)
		}
	})
	run, err := runProjectors(viewsDeadline, f.bin, f.env(name, "bench_unused"), "rebuild", name)
	run, err = f.finish(name, 1, run, err)
	if err != nil || run.killed {
		return run, nil, errors.Join(err, cleanup())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := views.Dump(ctx, pool, name, 1)
	return run, m, errors.Join(err, cleanup())
}

// dropViews drops every version's schema and consumer group, the stable schema and the dead-letter topic of p.
func (f *replayFixture) dropViews(pool *pgxpool.Pool, p *views.Projection) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	versions, err := p.Versions(ctx)
	errs := []error{err}
	for _, v := range versions {
		f.deleteGroup(ctx, p.Name(), v)
		_, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{projection.TargetName(p.Name(), v)}.Sanitize()+" CASCADE")
		errs = append(errs, err)
	}
	_, err = pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{p.Name()}.Sanitize()+" CASCADE")
	errs = append(errs, err)
	f.deleteDLQ(ctx, p.Name())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("drop views %s: %w", p.Name(), err)
	}
	return nil
}

// rebuildSearch runs `projectors rebuild name` of the search index as a process, reads back the version it made
// live, then deletes every index, group and topic the rebuild made.
func (f *replayFixture) rebuildSearch(b *testing.B, cl search.Client, name string) (processRun, *readmodel.Model, error) {
	b.Helper()
	p, err := search.New(cl, search.Config{Name: name})
	if err != nil {
		return processRun{}, nil, err
	}
	cleanup := func() error { return f.dropSearch(cl, p) }
	b.Cleanup(func() {
		if err := cleanup(); err != nil {
			b.Error(err)
		}
	})
	run, err := runProjectors(searchDeadline, f.bin, f.env("bench_unused", name), "rebuild", name)
	run, err = f.finish(name, p.Version(), run, err)
	if err != nil || run.killed {
		return run, nil, errors.Join(err, cleanup())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m, err := search.Dump(ctx, cl, p.Index(p.Version()))
	return run, m, errors.Join(err, cleanup())
}

// dropSearch deletes every version's index and consumer group and the dead-letter topic of p.
func (f *replayFixture) dropSearch(cl search.Client, p *search.Projection) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	versions, err := p.Versions(ctx)
	errs := []error{err}
	for _, v := range versions {
		f.deleteGroup(ctx, p.Name(), v)
		errs = append(errs, cl.DeleteIndex(ctx, p.Index(v)))
	}
	f.deleteDLQ(ctx, p.Name())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("drop search %s: %w", p.Name(), err)
	}
	return nil
}

// deleteGroup deletes the consumer group of name's version; a group that is not there is fine. A group that
// still has a member (of a process that was killed) is tried again every second until the broker has expired
// the member's session or ctx ends.
func (f *replayFixture) deleteGroup(ctx context.Context, name string, version int) {
	for {
		resp, err := f.adm.DeleteGroup(ctx, projection.GroupID(name, version))
		if err == nil {
			err = resp.Err
		}
		if !errors.Is(err, kerr.NonEmptyGroup) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// deleteDLQ deletes the dead-letter topic of name; a topic that is not there is fine.
func (f *replayFixture) deleteDLQ(ctx context.Context, name string) {
	_, _ = f.adm.DeleteTopics(ctx, projection.DLQTopic(f.prefix, name))
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
