package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/schemas"
)

// env is the environment of a projectors process on the harness's topics and names.
func (h *harness) env() map[string]string {
	return map[string]string{
		"KAFKA_TOPIC_PREFIX": h.cfg.Kafka.TopicPrefix, "KAFKA_TOPIC_PARTITIONS": fmt.Sprint(h.cfg.Projectors.Partitions),
		"PROJECTORS_VIEWS_NAME": h.views.Name(), "PROJECTORS_SEARCH_NAME": h.index.Name(),
		// New projection names are built before they go live, in build batches: 500 as well, so that a kill
		// lands between batches (a build batch of 20,000, the default, applied a whole test's events at once).
		"PROJECTORS_BATCH_SIZE": "500", "PROJECTORS_BUILD_BATCH_SIZE": "500",
		"PROJECTORS_POLL_INTERVAL": "200ms", "PROJECTORS_DRAIN_TIMEOUT": "30s",
		"DYNAMODB_TABLE_PREFIX": "none",
	}
}

// command runs `projectors args...` to its end and returns its exit code and output.
func (h *harness) command(args ...string) (int, string) {
	h.t.Helper()
	p := servicetest.StartProcess(h.t, servicetest.Binary(h.t, "."), "projectors "+strings.Join(args, " "), args, h.env())
	code, err := p.Wait(3 * time.Minute)
	if err != nil {
		h.t.Fatal(err)
	}
	return code, p.Output()
}

// applied returns the sum of the committed offsets of the live version of the views: how many records it has
// applied.
func (h *harness) applied() int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := h.sup.Status(ctx, h.views)
	if err != nil {
		return 0
	}
	var n int64
	for _, v := range st.Versions {
		for _, l := range v.Lags {
			n += l.Committed
		}
	}
	return n
}

// TestKillNineMidBatchThenRestart kills the projectors process with SIGKILL at a random moment while it applies
// 20,000 events in batches of 500, and starts another: the models end equal to the fold of the events, nothing
// lost and nothing applied twice (member counts, for one, would drift).
func TestKillNineMidBatchThenRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 6)
	const total = 20000
	h.produce(total)
	bin := servicetest.Binary(t, ".")
	first := servicetest.StartProcess(t, bin, "projectors-1", []string{"run"}, h.env())
	killAt := int64(1000 + rand.IntN(total/2))
	testkit.Eventually(t, 3*time.Minute, fmt.Sprintf("%d events applied", killAt), func() bool { return h.applied() >= killAt })
	first.Kill9()
	if n := h.applied(); n >= total {
		t.Fatalf("the first process applied all %d events before it was killed; the test proves nothing", n)
	}
	t.Logf("killed with %d of %d records applied to the views", h.applied(), total)
	servicetest.StartProcess(t, bin, "projectors-2", []string{"run"}, h.env())
	h.waitCaughtUp(3*time.Minute, h.views, h.index)
	h.checkModels("after kill -9 and a restart")
}

// TestRoomEventsStayLiveWhileAccountsKeepRenaming kills a projectors process with SIGKILL and starts another
// while an account is renamed every 250 ms: a message posted once the new process consumes must be in the views
// and in search within 10 s. (At start the room events wait for the account events that existed at the group
// assignment; a steady account stream must not hold them back for as long as it goes on.)
func TestRoomEventsStayLiveWhileAccountsKeepRenaming(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 4)
	h.produce(2000)
	env := h.env()
	env["PROJECTORS_SESSION_TIMEOUT"] = "6s"
	bin := servicetest.Binary(t, ".")
	first := servicetest.StartProcess(t, bin, "projectors-1", []string{"run"}, env)
	h.waitCaughtUp(3*time.Minute, h.views, h.index)

	stop := make(chan struct{})
	renaming := make(chan struct{})
	go func() {
		defer close(renaming)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			h.produceOf(schemas.TypeAccountRenamed)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	defer func() { close(stop); <-renaming }()

	first.Kill9()
	before := h.applied()
	servicetest.StartProcess(t, bin, "projectors-2", []string{"run"}, env)
	testkit.Eventually(t, time.Minute, "the new process applying the renames", func() bool { return h.applied() > before+2 })
	post, ok := h.produceOf(schemas.TypeMessagePosted)
	if !ok {
		t.Fatal("the generator cannot post a message")
	}
	var id string
	if err := json.Unmarshal(post.Payload, &struct {
		ID *string `json:"message_id"`
	}{&id}); err != nil || id == "" {
		t.Fatalf("message id of %s: %v", post.Payload, err)
	}
	posted := time.Now()
	testkit.Eventually(t, 10*time.Second, "the message in the views and in search", func() bool {
		_, inViews := h.viewsModel().Messages[id]
		_, inSearch := h.searchModel().Messages[id]
		return inViews && inSearch
	})
	t.Logf("the message posted under renames was visible in both models %s later", time.Since(posted).Round(time.Millisecond))
}

// TestRebuildWithTwoProcessesSwitchesOnce rebuilds the search projection from the command line while two
// `projectors run` processes share its partitions: the alias moves exactly once (no process moves it back or
// again), the old version is dropped, both processes go on with the new one, and the model equals the fold.
func TestRebuildWithTwoProcessesSwitchesOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 4)
	h.produce(1000)
	bin := servicetest.Binary(t, ".")
	runs := []*servicetest.Process{
		servicetest.StartProcess(t, bin, "projectors-a", []string{"run"}, h.env()),
		servicetest.StartProcess(t, bin, "projectors-b", []string{"run"}, h.env()),
	}
	h.waitCaughtUp(3*time.Minute, h.views, h.index)
	code, out := h.command("rebuild", h.index.Name())
	next := h.index.Version() + 1
	if want := fmt.Sprintf("%s: version %d is live", h.index.Name(), next); code != 0 || !strings.Contains(out, want) {
		t.Fatalf("rebuild = %d, want %q:\n%s", code, want, out)
	}
	h.produce(200) // the processes must now apply to the new version
	testkit.Eventually(t, time.Minute, "only the new version left", func() bool {
		vs, err := h.index.Versions(context.Background())
		return err == nil && len(vs) == 1 && vs[0] == next
	})
	h.waitCaughtUp(3*time.Minute, h.index)
	h.checkModels("after a rebuild beside two processes")
	logs := out
	for _, p := range runs {
		logs += p.Output()
	}
	switched := 0
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, " switched") && strings.Contains(line, `"projector":"`+h.index.Name()+`"`) &&
			strings.Contains(line, fmt.Sprintf(`"version":%d`, next)) {
			switched++
		}
	}
	if switched != 1 {
		t.Errorf("the logs show %d switches to version %d, want exactly 1 (the rebuild's):\n%s", switched, next, logs)
	}
}

// TestCommandLine drives the admin commands against a running `projectors run`: status shows lag 0 and the
// dead-lettered event, dlq list prints it, rebuild builds the next version while the process serves, and status
// then shows that version live.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 2)
	h.produce(500)
	poison := &kgo.Record{Topic: h.cfg.Kafka.TopicPrefix + ".room.events", Key: []byte("room-poison"), Value: []byte(`{"broken":`)}
	if err := testkit.KafkaClient(t).ProduceSync(context.Background(), poison).FirstErr(); err != nil {
		t.Fatal(err)
	}
	servicetest.StartProcess(t, servicetest.Binary(t, "."), "projectors run", []string{"run"}, h.env())
	h.waitCaughtUp(3*time.Minute, h.views, h.index)

	code, out := h.command("status")
	for _, want := range []string{
		fmt.Sprintf("%s: live v%d, dlq 1", h.views.Name(), h.views.Version()),
		fmt.Sprintf("%s: live v%d, dlq 1", h.index.Name(), h.index.Version()),
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("status = %d, want 0 and %q in:\n%s", code, want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[1] == "total" && f[2] != "0" {
			t.Fatalf("status shows a lag after catching up: %q in\n%s", line, out)
		}
	}
	if n := strings.Count(out, "total"); n != 2 {
		t.Fatalf("status shows %d versions, want 2 (one per projection):\n%s", n, out)
	}
	code, out = h.command("dlq", "list", h.views.Name())
	if code != 0 || !strings.Contains(out, "room-poison") || !strings.Contains(out, "1 dead-lettered events") {
		t.Fatalf("dlq list = %d:\n%s", code, out)
	}
	code, out = h.command("rebuild", h.index.Name())
	if want := fmt.Sprintf("%s: version %d is live", h.index.Name(), h.index.Version()+1); code != 0 || !strings.Contains(out, want) {
		t.Fatalf("rebuild = %d:\n%s", code, out)
	}
	code, out = h.command("rebuild", "nope")
	if code == 0 || !strings.Contains(out, `unknown projection "nope"`) {
		t.Fatalf("rebuild of an unknown projection = %d:\n%s", code, out)
	}
	h.waitCaughtUp(3*time.Minute, h.index)
	h.checkModels("after a rebuild from the command line")
}
