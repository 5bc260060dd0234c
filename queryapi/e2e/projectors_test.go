package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/internal/systemtest"
)

// TestProjectorsSharePartitionsAndSurviveAKill runs two projectors processes in the same consumer groups and two
// query APIs. Messages are posted to six rooms from eight clients at once; both processes apply some (the
// partitions are shared), then one is killed with SIGKILL while events are in flight, and posting goes on. Every
// message must then show exactly once in each room's messages and in search, through both query APIs: nothing
// lost with the killed process's batch, nothing applied twice when its partitions moved to the other one.
func TestProjectorsSharePartitionsAndSurviveAKill(t *testing.T) {
	t.Parallel()
	sys := &system{System: systemtest.Start(t, systemtest.Options{
		Name: "e2k", Secret: secret, Partitions: 6, Projectors: 2,
		QueryAPIs: []systemtest.QueryAPI{
			{Name: "queryapi", ConsistencyTimeout: consistencyTimeout},
			{Name: "queryapi-2", ConsistencyTimeout: consistencyTimeout},
		},
		RelayScanInterval: 200 * time.Millisecond, RelayIdleWait: 20 * time.Millisecond, RelayLeaseTTL: 3 * time.Second,
		ProjectorsPollInterval: 200 * time.Millisecond,
		// Small batches, so that the kill lands with batches in flight; the shortest session the brokers allow,
		// so that the killed process's partitions move within seconds.
		Env:          map[string]map[string]string{"projectors": {"PROJECTORS_BATCH_SIZE": "20", "PROJECTORS_SESSION_TIMEOUT": "6s"}},
		WaitPipeline: true,
	})}
	word := "kill" + randomHex(t, 4)
	ann := newUser(t, sys, "ann")
	ann.register(t, "Ann")
	rooms := make([]string, 6)
	for i := range rooms {
		rooms[i] = ann.createRoom(t, fmt.Sprintf("Room %d %s", i, word)).ID
	}

	var (
		mu    sync.Mutex
		texts = map[string][]string{} // room → texts posted
		last  = map[string]command{}  // room → its last post's answer
		seqs  = map[string]int64{}    // room → the version of last
	)
	postAll := func(from, to int) {
		var wg sync.WaitGroup
		for c := range 8 {
			wg.Go(func() {
				for i := from + c; i < to; i += 8 {
					room := rooms[i%len(rooms)]
					text := fmt.Sprintf("%s message %d", word, i)
					cmd := ann.post(t, room, text)
					mu.Lock()
					texts[room] = append(texts[room], text)
					if cmd.Version > seqs[room] {
						seqs[room], last[room] = cmd.Version, cmd
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}

	before := []float64{applied(t, sys.AllProjectors[0]), applied(t, sys.AllProjectors[1])}
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		// Killed once both processes applied events of this run: the partitions are shared, and the second one
		// has batches in flight.
		testkit.Eventually(t, time.Minute, "both projectors processes applying", func() bool {
			return applied(t, sys.AllProjectors[0]) > before[0] && applied(t, sys.AllProjectors[1]) > before[1]
		})
		sys.Process("projectors-2").Kill9()
	}()
	postAll(0, 240)
	<-killed
	postAll(240, 360)

	for _, base := range sys.QueryAPIs {
		for _, room := range rooms {
			mu.Lock()
			want, token := append([]string(nil), texts[room]...), last[room].ConsistencyToken
			mu.Unlock()
			a := check(t, send(t, http.MethodGet, base+"/v1/rooms/"+room+"/messages?limit=100&consistent_with="+token, ann.token, nil), "/v1/rooms/{room}/messages")
			fresh(t, a)
			page := decode[messagePage](t, a)
			got := make([]string, 0, len(page.Items))
			for _, m := range page.Items {
				got = append(got, m.Text)
			}
			if diff := sameOnce(want, got); diff != "" {
				t.Errorf("%s, room %s messages: %s", base, room, diff)
			}
			s := check(t, send(t, http.MethodGet, base+"/v1/search?limit=100&q="+word+"&room_id="+room+"&consistent_with="+token, ann.token, nil), "/v1/search")
			fresh(t, s)
			got = got[:0]
			for _, h := range decode[searchPage](t, s).Items {
				got = append(got, h.Text)
			}
			if diff := sameOnce(want, got); diff != "" {
				t.Errorf("%s, room %s search: %s", base, room, diff)
			}
		}
	}
}

// applied returns the events a projectors process has applied, both projections together (its /metrics).
func applied(t *testing.T, base string) float64 {
	m := servicetest.Get(t, base+"/metrics")
	var n float64
	for _, line := range strings.Split(m.Body, "\n") {
		if name, rest, ok := strings.Cut(line, " "); ok && strings.HasPrefix(name, "projector_events_applied_total{") {
			v, _ := strconv.ParseFloat(rest, 64)
			n += v
		}
	}
	return n
}

// sameOnce says how got differs from want as multisets of texts (each text exactly once), "" when it does not.
func sameOnce(want, got []string) string {
	count := map[string]int{}
	for _, s := range got {
		count[s]++
	}
	var missing, twice []string
	for _, s := range want {
		switch count[s] {
		case 0:
			missing = append(missing, s)
		case 1:
		default:
			twice = append(twice, s)
		}
		delete(count, s)
	}
	if len(missing) == 0 && len(twice) == 0 && len(count) == 0 && len(got) == len(want) {
		return ""
	}
	return fmt.Sprintf("%d of %d shown; missing %q, more than once %q, unexpected %v", len(got), len(want), missing, twice, count)
}
