package eventgen_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/eventgen"
	"github.com/cqrses-aws/pipeline/schemas"
)

func TestHistoriesFollowTheRules(t *testing.T) {
	t.Parallel()
	// TestDefaultMix checks 20,000 events of the default mix; these are the other mixes and more seeds.
	cases := []struct {
		name string
		cfg  eventgen.Config
		n    int
	}{
		{"another seed", eventgen.Config{Seed: 2}, 5_000},
		// Few accounts and rooms with much churn: rooms fill up, lose their members and get deleted often.
		{"churn", eventgen.Config{Seed: 3, Accounts: 8, Rooms: 3, Mix: map[string]int{
			schemas.TypeMemberAdded: 30, schemas.TypeMemberRemoved: 30, schemas.TypeRoomDeleted: 5,
			schemas.TypeMessagePosted: 20, schemas.TypeMessageEdited: 20, schemas.TypeMessageDeleted: 20,
			schemas.TypeRoomRenamed: 5, schemas.TypeAccountRenamed: 5, schemas.TypeRoomCreated: 10,
			schemas.TypeAccountRegistered: 10,
		}}, 10_000},
		{"posts only", eventgen.Config{Seed: 4, Mix: map[string]int{schemas.TypeMessagePosted: 1}}, 2_000},
		{"unknown types only", eventgen.Config{Seed: 5, Mix: map[string]int{"MessageBurned": 3}}, 2_000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newChecker()
			checkHistory(t, c, eventgen.New(tc.cfg).Events(tc.n))
			if c.counts[schemas.TypeMessagePosted] == 0 {
				t.Errorf("no message posted in %d events: %v", tc.n, c.counts)
			}
		})
	}
}

// checkHistory fails the test at the first event of history that breaks a rule.
func checkHistory(t *testing.T, c *checker, history []schemas.Envelope) {
	t.Helper()
	for i, env := range history {
		if err := c.check(env); err != nil {
			t.Fatalf("event %d (%s seq %d of %s, payload %s): %v", i, env.Type, env.Seq, env.AggregateID, env.Payload, err)
		}
	}
}

// TestDefaultMix checks a history of 20,000 events of the default mix against the rules, and its shares of
// event types against the documented mix.
func TestDefaultMix(t *testing.T) {
	t.Parallel()
	const n = 20_000
	c := newChecker()
	checkHistory(t, c, eventgen.New(eventgen.Config{Seed: 1}).Events(n))
	share := func(eventType string) float64 { return float64(c.counts[eventType]) / n }
	for _, tc := range []struct {
		eventType string
		min, max  float64
	}{
		{schemas.TypeMessagePosted, 0.65, 0.80},
		{schemas.TypeMessageEdited, 0.05, 0.10},
		{schemas.TypeMessageDeleted, 0.02, 0.06},
		{schemas.TypeMemberAdded, 0.03, 0.08},
		{schemas.TypeMemberRemoved, 0.01, 0.04},
		{schemas.TypeRoomRenamed, 0.005, 0.03},
		{schemas.TypeAccountRenamed, 0.005, 0.03},
		{schemas.TypeRoomDeleted, 0.0005, 0.005},
	} {
		if got := share(tc.eventType); got < tc.min || got > tc.max {
			t.Errorf("%s is %.2f%% of the events, want %.2f%%–%.2f%%", tc.eventType, 100*got, 100*tc.min, 100*tc.max)
		}
	}
	if v1 := float64(c.counts["MemberAdded v1"]) / float64(c.counts[schemas.TypeMemberAdded]); v1 < 0.005 || v1 > 0.05 {
		t.Errorf("%.2f%% of MemberAdded are version 1, want about 2%%", 100*v1)
	}
	if got := len(c.model.Accounts); got < 500 || got > eventgen.DefaultAccounts {
		t.Errorf("%d accounts registered, want 500–%d", got, eventgen.DefaultAccounts)
	}
	if got := len(c.model.Rooms); got < eventgen.DefaultRooms-5 || got > eventgen.DefaultRooms {
		t.Errorf("%d live rooms, want about %d", got, eventgen.DefaultRooms)
	}
	// Search tests rely on common words and on Japanese texts.
	common, japanese := 0, 0
	for _, msg := range c.model.Messages {
		if strings.Contains(msg.Text, "meeting") {
			common++
		}
		if strings.Contains(msg.Text, "会議") {
			japanese++
		}
	}
	if live := len(c.model.Messages); common < live/20 || japanese < live/20 {
		t.Errorf("of %d live messages %d say meeting and %d say 会議, want at least 5%% each", live, common, japanese)
	}
}

func TestSameSeedSameHistory(t *testing.T) {
	t.Parallel()
	cfg := eventgen.Config{Seed: 42, Accounts: 50, Rooms: 10}
	first := eventgen.New(cfg).Events(5_000)
	g := eventgen.New(cfg)
	second := append(g.Events(2_000), g.Events(3_000)...)
	if !reflect.DeepEqual(first, second) {
		t.Fatal("two generators of the same config made different histories")
	}
	cfg.Seed = 43
	if other := eventgen.New(cfg).Events(5_000); reflect.DeepEqual(first, other) {
		t.Fatal("seeds 42 and 43 made the same history")
	}
}

func TestStart(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 6, 1, 12, 0, 0, 123456789, time.FixedZone("JST", 9*60*60))
	events := eventgen.New(eventgen.Config{Seed: 1, Start: start}).Events(100)
	first, last := events[0].OccurredAt, events[len(events)-1].OccurredAt
	want := start.Truncate(time.Millisecond)
	if !first.After(want) || first.Sub(want) > time.Second {
		t.Errorf("first event at %v, want within a second after %v", first, want)
	}
	if last.Sub(first) < 99*time.Millisecond || last.Sub(first) > 99*time.Second {
		t.Errorf("100 events span %v, want 1 ms to 1 s apart", last.Sub(first))
	}
	if zero := eventgen.New(eventgen.Config{}).Next().OccurredAt; !zero.After(eventgen.DefaultStart) {
		t.Errorf("first event of the zero Config at %v, want after %v", zero, eventgen.DefaultStart)
	}
}
