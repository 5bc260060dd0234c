package progress_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/queryapi/progress"
)

// model is a read model whose applied seqs the test sets; it counts its reads and what they asked for.
type model struct {
	mu    sync.Mutex
	seqs  map[string]int64
	reads [][]string
}

func (m *model) set(id string, seq int64) {
	m.mu.Lock()
	m.seqs[id] = seq
	m.mu.Unlock()
}

func (m *model) read(_ context.Context, ids []string) (map[string]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads = append(m.reads, slices.Sorted(slices.Values(ids)))
	out := map[string]int64{}
	for _, id := range ids {
		if s, ok := m.seqs[id]; ok {
			out[id] = s
		}
	}
	return out, nil
}

func (m *model) readCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.reads)
}

func start(t *testing.T, m *model, interval time.Duration) *progress.Watcher {
	t.Helper()
	w, err := progress.New(progress.Config{Read: m.read, Interval: interval})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return w
}

func wait(w *progress.Watcher, id string, seq int64, within time.Duration) <-chan bool {
	out := make(chan bool, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), within)
		defer cancel()
		out <- w.Wait(ctx, id, seq)
	}()
	return out
}

func TestAnAppliedWriteReturnsAtOnce(t *testing.T) {
	t.Parallel()
	m := &model{seqs: map[string]int64{"room-1": 5}}
	w := start(t, m, time.Hour)
	if !<-wait(w, "room-1", 5, 5*time.Second) {
		t.Error("Wait for an applied seq = false")
	}
	if w.Waiting() != 0 {
		t.Errorf("Waiting = %d after the wait ended", w.Waiting())
	}
}

func TestNotifyWakesTheWaiters(t *testing.T) {
	t.Parallel()
	m := &model{seqs: map[string]int64{"room-1": 1}}
	// An hour between rounds: only Notify can end the wait in time.
	w := start(t, m, time.Hour)
	got := wait(w, "room-1", 3, 10*time.Second)
	testkit.Eventually(t, 5*time.Second, "the waiter is registered and read once", func() bool {
		return w.Waiting() == 1 && m.readCount() > 0
	})
	select {
	case <-got:
		t.Fatal("Wait returned before seq 3 was applied")
	default:
	}
	m.set("room-1", 3)
	w.Notify()
	if !<-got {
		t.Error("Wait = false after the seq was applied and notified")
	}
}

func TestTheIntervalIsTheSafetyNet(t *testing.T) {
	t.Parallel()
	m := &model{seqs: map[string]int64{}}
	w := start(t, m, 10*time.Millisecond)
	got := wait(w, "acct-1", 1, 10*time.Second)
	m.set("acct-1", 1) // no Notify
	if !<-got {
		t.Error("Wait = false although a round would see the seq")
	}
}

func TestTimeoutReturnsFalseAndForgets(t *testing.T) {
	t.Parallel()
	m := &model{seqs: map[string]int64{"room-1": 1}}
	w := start(t, m, time.Hour)
	if <-wait(w, "room-1", 2, 50*time.Millisecond) {
		t.Error("Wait = true for a seq never applied")
	}
	if n := w.Waiting(); n != 0 {
		t.Errorf("Waiting = %d after the timeout", n)
	}
}

func TestOneReadServesManyWaiters(t *testing.T) {
	t.Parallel()
	m := &model{seqs: map[string]int64{}}
	w := start(t, m, time.Hour)
	const n = 50
	var results []<-chan bool
	for i := range n {
		results = append(results, wait(w, []string{"a", "b", "c"}[i%3], int64(1+i%2), 10*time.Second))
	}
	testkit.Eventually(t, 5*time.Second, "every waiter is registered", func() bool { return w.Waiting() == n })
	before := m.readCount()
	m.set("a", 2)
	m.set("b", 2)
	m.set("c", 2)
	w.Notify()
	for _, r := range results {
		if !<-r {
			t.Fatal("a waiter was not woken")
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	last := m.reads[len(m.reads)-1]
	if !slices.Equal(last, []string{"a", "b", "c"}) {
		t.Errorf("last read asked for %v, want each waited aggregate once", last)
	}
	if rounds := len(m.reads) - before; rounds > 2 {
		t.Errorf("%d reads woke %d waiters, want one (two if a round was already running)", rounds, n)
	}
}
