package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrses-aws/pipeline/internal/benchkit"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/readmodel"
	"github.com/cqrses-aws/pipeline/projectors/search"
	"github.com/cqrses-aws/pipeline/projectors/views"
)

// The catch-up benchmark's names, bounds and budgets.
const (
	// catchUpDeadline bounds one catch-up from the projectors process's start: a process still short of the
	// end offsets, or a query API not answering fresh by then, is stopped and the unreached results are misses.
	// The fold of the backlog before it (20 to 70 s) and the cleanup after it come on top.
	catchUpDeadline = 180 * time.Second
	// catchUpPollInterval is how often the committed offsets and the query API are read while the backlog is
	// cleared: the resolution of every figure, small against figures of tens of seconds.
	catchUpPollInterval = 100 * time.Millisecond
	// catchUpStopTimeout is how long the projectors process may take to finish its batch after SIGTERM before
	// it is killed.
	catchUpStopTimeout = 15 * time.Second
	// catchUpSecret signs the reader's token (AUTH_HS256_SECRET of the query API); its value matters to nothing.
	catchUpSecret = "catchup-bench-secret-0123456789abcdef"
	// catchUpRSSBudgetMiB is the peak resident memory the projectors process, running both projections, must
	// stay under: a rebuild's budget (rssBudgetMiB) for each. catchUpMemoryLimit is its GOMEMLIMIT, the budget
	// less 48 MiB as for a rebuild (see rebuildMemoryLimit); without one it peaked at 470 to 610 MiB.
	catchUpRSSBudgetMiB = 2 * rssBudgetMiB
	catchUpMemoryLimit  = "464MiB"
)

// The catch-up targets, from the `make bench` run at the end of issue 14 on the 2-core machine with nothing
// else running: views caught up at 22,800 events/s, search at 12,200 events/s (the two builds sharing one
// process and the two cores), the query API fresh 82.8 s after the process started. They keep about a third of
// margin for a busier machine; the search rate is also bounded by the deadline (1,000,000 events in 180 s is
// 5,560 events/s). On the same machine busy with other benchmarks (load average 6 to 40) the views took 72 to
// 152 s and search was killed at the deadline in most runs.
const (
	catchUpViewsRateTarget  = 15_000 // events/s
	catchUpSearchRateTarget = 8_000  // events/s
	catchUpFreshTarget      = 120    // s: the search index caught up, switched in and refreshed
)

// The results BenchmarkRatioCatchUp records.
const (
	catchUpViewsRate   = "catchup_views_rate"
	catchUpSearchRate  = "catchup_search_rate"
	catchUpFresh       = "catchup_fresh_seconds"
	catchUpPeakRSS     = "catchup_peak_rss_mib"
	catchUpDescription = "projectors run (views and search in one process) clearing a backlog of %d events into %s"
)

// BenchmarkRatioCatchUp: the projectors in their serving mode (`projectors run`, both projections in one
// process) clearing a backlog of the million events of the replay fixture, with a query API process reading
// what they write. It records catchup_views_rate and catchup_search_rate (events/s from the process's start
// until the projection's consumer group has committed the end offset of every partition), catchup_fresh_seconds
// (from the process's start until the query API shows a member the newest message of the backlog both in its
// room's messages and in search) and catchup_peak_rss_mib (the process's peak RSS). All are plain figures:
// the nearest reference, a rebuild over the same events, is what replay_views and replay_search measure.
//
// What clears the backlog is -catchup.backlog (see catchUpBacklogs): by default projections of new names, the
// first deployment of the projectors (or of a new projection) on a topic that already holds the history.
func BenchmarkRatioCatchUp(b *testing.B) {
	benchkit.Expect(b, catchUpViewsRate, catchUpSearchRate, catchUpFresh, catchUpPeakRSS)
	backlog, ok := catchUpBacklogs[*catchUpBacklog]
	if !ok {
		b.Fatalf("-catchup.backlog=%q: want one of %v", *catchUpBacklog, slices.Sorted(maps.Keys(catchUpBacklogs)))
	}
	f := sharedReplay(b)
	pool := benchPool(b)
	cl := search.NewOpenSearchClient(testkit.OpenSearch(b))
	queryBin := servicetest.Binary(b, "../queryapi")
	for b.Loop() {
		c, err := f.catchUp(b, pool, cl, queryBin, backlog)
		saveCatchUp(b, c, err)
	}
}

// catchUpBacklog selects what clears the backlog in BenchmarkRatioCatchUp.
var catchUpBacklog = flag.String("catchup.backlog", "new",
	`what clears the catch-up benchmark's backlog: "new" (projections of new names, built by projectors run from offset zero and switched in) or "live" (empty live versions, as after projectors were down; minutes for search)`)

// catchUpBacklogKind is one way the projectors meet the backlog: what the benchmark's note says, and what is
// done to the projections before the process starts.
type catchUpBacklogKind struct {
	note    string
	prepare func(context.Context, projection.Projection) error
}

// catchUpBacklogs are the kinds of backlog -catchup.backlog chooses from.
//
// "new" is the default: no version of either projection exists, so `projectors run` builds the code's version
// of each from offset zero (batches of PROJECTORS_BUILD_BATCH_SIZE; search with its look-ahead) and switches it
// in once it has caught up; the query API answers fresh from the switch on. That is the first deployment of the
// projectors, or of a new projection, on a topic that holds a history.
//
// "live" is the backlog of projectors that were down (or stalled) while the writers went on: each projection's
// live version exists and has applied nothing of the topics. Version 1 of the views and the code's version of
// the index are created empty and made live before the process starts, and the process runs them as live
// versions (batches of PROJECTORS_BATCH_SIZE; search without the look-ahead, so every rename rewrites the
// documents it touches), while the query API reads them as they fill. Measured on the 2-core machine (busy with
// other benchmarks), the views cleared it in 99 s but search had applied 128,442 events after 150 s, where the
// "new" path had applied 872,593 under a similar load: at that pace a live search version takes well over ten
// minutes for a million events, so this run is killed at the deadline and its results are misses. It is not
// the default for that reason; -catchup.backlog=live measures it.
var catchUpBacklogs = map[string]catchUpBacklogKind{
	"new":  {note: "projections of new names, built from offset zero and switched in", prepare: nil},
	"live": {note: "empty live versions, applied as live (as after projectors were down)", prepare: makeEmptyLive},
}

// catchUpRun is what one catch-up measured: when each milestone was reached (from the projectors process's
// start), the process's peak RSS, and why a milestone was not reached (nil when it was).
type catchUpRun struct {
	views, search           milestone // the consumer group's committed offsets at the end of every partition
	viewsFresh, searchFresh milestone // the query API answering with the newest message
	maxRSSKiB               int64
	probe                   freshProbe
	note                    string // what cleared the backlog
}

// milestone is the time from the process's start until a condition held, or why it never did.
type milestone struct {
	at  time.Duration
	err error
}

// catchUp runs one catch-up of the fixture's backlog into projections of new names, prepared as backlog says,
// with a query API process reading them, and returns what it measured. It returns an error (and no run) only when the benchmark could not be set up; a
// milestone missed, a process that died or contents that differ from the fold's are in the run's milestones.
func (f *replayFixture) catchUp(b *testing.B, pool *pgxpool.Pool, cl search.Client, queryBin string,
	backlog catchUpBacklogKind) (catchUpRun, error) {
	b.Helper()
	suffix := randomHex(b)
	vp, err := views.New(pool, views.Config{Name: "bench_catchup_views_" + suffix})
	if err != nil {
		return catchUpRun{}, err
	}
	sp, err := search.New(cl, search.Config{Name: "bench_catchup_search_" + suffix})
	if err != nil {
		return catchUpRun{}, err
	}
	// Registered before the query API starts, so they run after its Cleanup has stopped it.
	b.Cleanup(func() {
		if err := errors.Join(f.dropViews(pool, vp), f.dropSearch(cl, sp)); err != nil {
			b.Error(err)
		}
	})

	setup, cancel := context.WithTimeout(context.Background(), replayTimeout)
	defer cancel()
	ends, err := endOffsets(setup, f.adm, f.prefix)
	if err != nil {
		return catchUpRun{}, err
	}
	total := sumOffsets(ends)
	// The fold says what fresh is: the newest message of a room and one of the room's members.
	folded := time.Now()
	m, err := f.foldOnce(setup)
	if err != nil {
		return catchUpRun{}, err
	}
	probe, err := newFreshProbe(m)
	if err != nil {
		return catchUpRun{}, err
	}
	b.Logf("catch-up: the fold of %d events ready in %s; fresh means message %s (%q, searched as %q) in room %s for member %s",
		total, time.Since(folded).Round(time.Millisecond), probe.messageID, tail(probe.text, 80), probe.word,
		probe.room, probe.member)
	for _, p := range []projection.Projection{vp, sp} {
		if backlog.prepare == nil {
			break
		}
		if err := backlog.prepare(setup, p); err != nil {
			return catchUpRun{}, err
		}
	}
	probe.start(b, queryBin, vp.Name(), sp.Name())

	run := catchUpRun{probe: probe, note: backlog.note}
	proc, err := startLive(f.bin, append(f.env(vp.Name(), sp.Name()), "HTTP_ADDR=127.0.0.1:0", "GOMEMLIMIT="+catchUpMemoryLimit))
	if err != nil {
		return catchUpRun{}, err
	}
	ctx, cancelRun := context.WithTimeoutCause(proc.ctx, catchUpDeadline,
		fmt.Errorf("projectors run %w (%s)", errKilled, catchUpDeadline))
	defer cancelRun()
	var wg sync.WaitGroup
	for _, w := range []struct {
		into  *milestone
		check func(context.Context) (bool, error)
	}{
		{&run.views, f.caughtUpCheck(projection.GroupID(vp.Name(), vp.Version()), total)},
		{&run.search, f.caughtUpCheck(projection.GroupID(sp.Name(), sp.Version()), total)},
		{&run.viewsFresh, probe.viewsFresh},
		{&run.searchFresh, probe.searchFresh},
	} {
		wg.Go(func() { *w.into = pollUntil(ctx, proc.start, w.check) })
	}
	wg.Wait()
	cancelRun()
	out, rss, stopErr := proc.stop()
	run.maxRSSKiB = rss
	if run.views.err != nil || run.search.err != nil {
		f.howFar(&run, vp, sp, total)
	} else {
		check, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		run.views.err, run.search.err = checkCaughtUpContents(check, pool, cl, vp, sp, m)
	}
	b.Logf("catch-up: %s", run)
	if stopErr != nil || run.views.err != nil || run.search.err != nil {
		b.Logf("projectors run (stop: %v), its output's end:\n%s", stopErr, tail(out, 4000))
	}
	return run, nil
}

// howFar adds to each projection's missed milestone in run how many of the total events its consumer group
// had committed: how far it got, for the miss's reason.
func (f *replayFixture) howFar(run *catchUpRun, vp, sp projection.Projection, total int64) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, p := range []struct {
		m *milestone
		p projection.Projection
	}{{&run.views, vp}, {&run.search, sp}} {
		if p.m.err != nil {
			n, err := f.committed(ctx, projection.GroupID(p.p.Name(), p.p.Version()))
			p.m.err = errors.Join(fmt.Errorf("%w: %d of %d events applied", p.m.err, n, total), err)
		}
	}
}

// String returns the milestones, with the reason of each missed one, and the peak RSS as the benchmark's log
// prints them.
func (r catchUpRun) String() string {
	show := func(m milestone) string {
		if m.err != nil {
			return fmt.Sprintf("%s (%v)", m, m.err)
		}
		return m.String()
	}
	return fmt.Sprintf("views caught up %s, search caught up %s, fresh in views %s, fresh in search %s, peak RSS %.0f MiB",
		show(r.views), show(r.search), show(r.viewsFresh), show(r.searchFresh), float64(r.maxRSSKiB)/1024)
}

// String returns the milestone's time, or "not reached" when it was missed (the reason is in the error).
func (m milestone) String() string {
	if m.err != nil {
		return "not reached"
	}
	return m.at.Round(time.Millisecond).String()
}

// makeEmptyLive creates p's code version, empty, and makes it live, as it is after a deployment whose
// projectors have applied nothing of the topics yet.
func makeEmptyLive(ctx context.Context, p projection.Projection) error {
	t, err := p.Open(ctx, p.Version())
	if err != nil {
		return err
	}
	if err := t.Close(); err != nil {
		return fmt.Errorf("close %s: %w", projection.TargetName(p.Name(), p.Version()), err)
	}
	return p.Switch(ctx, 0, p.Version())
}

// caughtUpCheck returns a check that holds once group has committed total events on the fixture's topics,
// i.e. every partition's end offset (a group never commits past the end).
func (f *replayFixture) caughtUpCheck(group string, total int64) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		n, err := f.committed(ctx, group)
		return n >= total, err
	}
}

// pollUntil runs check every catchUpPollInterval until it holds and returns the time since start then. An
// error of check is no failure (the process may not have joined its group yet, a read model may answer 503
// while it starts): it is kept and returned, with ctx's cause, only if ctx ends first.
func pollUntil(ctx context.Context, start time.Time, check func(context.Context) (bool, error)) milestone {
	tick := time.NewTicker(catchUpPollInterval)
	defer tick.Stop()
	var last error
	for {
		ok, err := check(ctx)
		if ok && err == nil {
			return milestone{at: time.Since(start)}
		}
		if err != nil && ctx.Err() == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return milestone{err: fmt.Errorf("%w (last check: %w)", context.Cause(ctx), last)}
			}
			return milestone{err: context.Cause(ctx)}
		case <-tick.C:
		}
	}
}

// checkCaughtUpContents compares, cheaply, what the caught-up versions hold with the fold of the same events:
// the views' row counts, and the index's message documents. Each error says how the projection differs.
func checkCaughtUpContents(ctx context.Context, pool *pgxpool.Pool, cl search.Client, vp *views.Projection,
	sp *search.Projection, m *readmodel.Model) (viewsErr, searchErr error) {
	want := countsOf(m)
	got, err := countViews(ctx, pool, projection.TargetName(vp.Name(), vp.Version()))
	if err == nil && got != want {
		err = fmt.Errorf("the caught-up views hold %+v, the fold of the events %+v", got, want)
	}
	viewsErr = err
	docs, err := countMessageDocs(ctx, cl, sp.Index(sp.Version()))
	if err == nil && docs != len(m.Messages) {
		err = fmt.Errorf("the caught-up index holds %d messages, the fold of the events %d", docs, len(m.Messages))
	}
	return viewsErr, err
}

// saveCatchUp records the run's four results: each reached milestone as its figure, each missed one as a
// failed result (a miss) with its reason. Results are recorded all before the benchmark is failed, so that one
// failure does not leave the others unrecorded. setupErr, when not nil, fails every result but the peak RSS,
// which a run that started measures all the same.
func saveCatchUp(b *testing.B, c catchUpRun, setupErr error) {
	b.Helper()
	note := fmt.Sprintf(catchUpDescription, replayEvents, c.note)
	// A missed milestone's result keeps its unit, target and note, so that the report shows what was missed.
	rate := func(m milestone, what string, target float64) (benchkit.Result, error) {
		r := benchkit.Figure(0, "events/s")
		if m.err == nil && setupErr == nil {
			r.Value = replayEvents / m.at.Seconds()
		}
		r.Target = benchkit.ValueAtLeast(target)
		r.Note = fmt.Sprintf("%s: events/s of the %s, from the process's start until its group committed every "+
			"partition's end offset (%s); contents checked by counts against the fold", note, what, m)
		return r, errors.Join(setupErr, m.err)
	}
	type named struct {
		name string
		r    benchkit.Result
		err  error
	}
	var results []named
	add := func(name string, r benchkit.Result, err error) { results = append(results, named{name, r, err}) }
	r, err := rate(c.views, "views (Postgres)", catchUpViewsRateTarget)
	add(catchUpViewsRate, r, err)
	r, err = rate(c.search, "search index", catchUpSearchRateTarget)
	add(catchUpSearchRate, r, err)
	fresh := benchkit.Figure(max(c.viewsFresh.at, c.searchFresh.at).Seconds(), "s")
	fresh.Target = benchkit.ValueAtMost(catchUpFreshTarget)
	fresh.Note = fmt.Sprintf("%s: from the process's start until the query API shows a member the backlog's newest "+
		"message in its room's page (%s) and in search (%s); polled every %s", note, c.viewsFresh, c.searchFresh,
		catchUpPollInterval)
	add(catchUpFresh, fresh, errors.Join(setupErr, c.viewsFresh.err, c.searchFresh.err))
	if setupErr == nil || c.maxRSSKiB > 0 {
		rss := benchkit.Figure(float64(c.maxRSSKiB)/1024, "MiB")
		rss.Target = benchkit.ValueAtMost(catchUpRSSBudgetMiB)
		rss.Note = fmt.Sprintf("%s: peak RSS (VmHWM, sampled every 100 ms) of the projectors run process; budget %d MiB",
			note, catchUpRSSBudgetMiB)
		add(catchUpPeakRSS, rss, nil)
	}
	dir, err := benchkit.Dir()
	if err != nil {
		b.Fatal(err)
	}
	var failed []named
	for _, n := range results {
		if n.err != nil {
			failed = append(failed, n)
			continue
		}
		benchkit.Save(b, n.name, n.r, nil)
	}
	// Save fails the benchmark at once on a failed result: every failure but the last is recorded first.
	for i, n := range failed {
		if i < len(failed)-1 {
			n.r.Failed = n.err.Error()
			if err := benchkit.Record(dir, n.name, n.r); err != nil {
				b.Error(err)
			}
			continue
		}
		benchkit.Save(b, n.name, n.r, n.err)
	}
}

// liveProcess is a `projectors run` process: ctx ends (with the cause) when it exits by itself.
type liveProcess struct {
	cmd    *exec.Cmd
	out    *bytes.Buffer
	start  time.Time
	ctx    context.Context
	done   chan struct{} // closed once the process has exited and been waited for
	err    error         // the process's exit, once done is closed
	peak   chan int64    // the sampled peak RSS, once sampling stopped
	stopHW chan struct{}
}

// startLive starts `projectors run` of bin with env, and samples its peak RSS until it is stopped.
func startLive(bin string, env []string) (*liveProcess, error) {
	cmd := exec.Command(bin, "run")
	cmd.Env = env
	out := new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start projectors run: %w", err)
	}
	ctx, exited := context.WithCancelCause(context.Background())
	p := &liveProcess{cmd: cmd, out: out, start: start, ctx: ctx, done: make(chan struct{}),
		peak: make(chan int64, 1), stopHW: make(chan struct{})}
	go func() { p.peak <- sampleHWM(cmd.Process.Pid, p.stopHW) }()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
		exited(fmt.Errorf("projectors run exited after %s: %v", time.Since(start).Round(time.Millisecond), p.err))
	}()
	return p, nil
}

// exited reports whether the process has exited.
func (p *liveProcess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the process (SIGTERM, so that it commits its batch and leaves its groups; SIGKILL after
// catchUpStopTimeout) and returns its output and peak RSS; the error says when it had exited by itself, did not
// stop in time or did not exit with 0.
func (p *liveProcess) stop() (string, int64, error) {
	var err error
	if p.exited() {
		err = fmt.Errorf("exited before it was stopped: %v", p.err)
	} else {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
			if p.err != nil {
				err = fmt.Errorf("after SIGTERM: %w", p.err)
			}
		case <-time.After(catchUpStopTimeout):
			_ = p.cmd.Process.Kill()
			<-p.done
			err = fmt.Errorf("still running %s after SIGTERM; killed", catchUpStopTimeout)
		}
	}
	close(p.stopHW)
	return p.out.String(), <-p.peak, err
}

// searchCredentials returns the search server's credentials as the services read them, if it has any.
func searchCredentials(st testkit.Stack) map[string]string {
	if st.Search.Username == "" {
		return nil
	}
	return map[string]string{"SEARCH_USERNAME": st.Search.Username, "SEARCH_PASSWORD": st.Search.Password.Reveal()}
}
