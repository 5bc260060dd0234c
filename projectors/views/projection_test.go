package views_test

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/projectiontest"
	"github.com/cqrses-aws/pipeline/projectors/views"
)

var _ projection.Projection = (*views.Projection)(nil)

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	p, err := views.New(pool, views.Config{})
	if err != nil || p.Name() != "views" || p.Version() != 1 {
		t.Fatalf("New with defaults = %v, %v; want views version 1", p, err)
	}
	for _, cfg := range []views.Config{
		{Name: "Views"}, {Name: "1views"}, {Name: "views-x"}, {Name: `v"; DROP`}, {Name: "v", Version: -1},
		{Name: "a_very_long_name_that_does_not_fit_in_an_identifier_x"},
	} {
		if _, err := views.New(pool, cfg); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", cfg)
		}
	}
	if _, err := views.New(nil, views.Config{}); err == nil {
		t.Error("New without a pool succeeded")
	}
}

func TestOpenTwiceConcurrently(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	pool := newPool(t)
	p := newProjection(t, pool)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { _, errs[i] = p.Open(ctx, 1) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Open: %v", err)
	}
	// And once more, on the migrated schema.
	target := open(t, p, 1)
	j, events := everyEventType(t)
	applyBatch(t, target, events)
	assertModel(t, pool, p, 1, j.model())
	versions, err := p.Versions(ctx)
	if err != nil || !slices.Equal(versions, []int{1}) {
		t.Fatalf("Versions = %v, %v; want [1]", versions, err)
	}
	var migrations int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{p.Name() + "_v1", "goose_db_version"}.Sanitize()+
		" WHERE version_id > 0").Scan(&migrations); err != nil || migrations != 1 {
		t.Fatalf("%d migrations recorded in the target's goose table (%v), want 1", migrations, err)
	}
}

func TestLiveSwitchDropVersions(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	pool := newPool(t)
	p := newProjection(t, pool)

	if v, ok, err := p.Live(ctx); err != nil || ok {
		t.Fatalf("Live before any Switch = %d, %v, %v; want none", v, ok, err)
	}
	if err := p.Switch(ctx, 0, 1); err == nil {
		t.Fatal("Switch to a version that does not exist succeeded")
	}
	v1, v2 := open(t, p, 1), open(t, p, 2)
	j1, events := everyEventType(t)
	applyBatch(t, v1, events)
	j2 := newJournal(t)
	applyBatch(t, v2, []projection.Event{j2.register("acc-z", "Zed"), j2.createRoom("room-9", "nine", "acc-z")})
	if versions, err := p.Versions(ctx); err != nil || !slices.Equal(versions, []int{1, 2}) {
		t.Fatalf("Versions = %v, %v; want [1 2]", versions, err)
	}

	if err := p.Switch(ctx, 2, 1); !errors.Is(err, projection.ErrSwitchConflict) {
		t.Fatalf("Switch from a version that is not live = %v, want ErrSwitchConflict", err)
	}
	if err := p.Switch(ctx, 0, 1); err != nil {
		t.Fatal(err)
	}
	assertLive(t, p, 1)
	assertViewRooms(t, p, []string{"room-1"})
	if _, ok := j1.model().Rooms["room-1"]; !ok {
		t.Fatal("reference has no room-1")
	}
	if err := p.Drop(ctx, 1); !errors.Is(err, projection.ErrLive) {
		t.Fatalf("Drop of the live version = %v, want ErrLive", err)
	}

	if err := p.Switch(ctx, 0, 2); !errors.Is(err, projection.ErrSwitchConflict) {
		t.Fatalf("Switch as if none were live = %v, want ErrSwitchConflict", err)
	}
	assertLive(t, p, 1)
	if err := p.Switch(ctx, 1, 2); err != nil {
		t.Fatal(err)
	}
	assertLive(t, p, 2)
	assertViewRooms(t, p, []string{"room-9"})
	var names []string
	rows, _ := pool.Query(ctx, "SELECT name FROM "+pgx.Identifier{p.Name(), "accounts"}.Sanitize())
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || !slices.Equal(names, []string{"Zed"}) {
		t.Fatalf("accounts view = %v, %v; want [Zed]", names, err)
	}
	if err := p.Switch(ctx, 2, 2); err != nil {
		t.Fatalf("Switch to the live version again: %v", err)
	}

	if err := p.Drop(ctx, 1); err != nil {
		t.Fatalf("Drop of the old version: %v", err)
	}
	if err := p.Drop(ctx, 1); err != nil {
		t.Fatalf("Drop of a missing version: %v", err)
	}
	if versions, err := p.Versions(ctx); err != nil || !slices.Equal(versions, []int{2}) {
		t.Fatalf("Versions after Drop = %v, %v; want [2]", versions, err)
	}
	assertViewRooms(t, p, []string{"room-9"})
}

// TestSwitchIsAtomic switches back and forth while readers query the stable views: each query sees either
// version's tables whole, never an error and never a mix.
func TestSwitchIsAtomic(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	pool := newPool(t)
	p := newProjection(t, pool)
	j := newJournal(t)
	v1 := open(t, p, 1)
	applyBatch(t, v1, []projection.Event{j.createRoom("room-1", "one", "acc-a")})
	v2 := open(t, p, 2)
	applyBatch(t, v2, []projection.Event{j.createRoom("room-2", "two", "acc-a"), j.createRoom("room-3", "three", "acc-a")})
	if err := p.Switch(ctx, 0, 1); err != nil {
		t.Fatal(err)
	}

	s := pgx.Identifier{p.Name()}.Sanitize()
	query := "SELECT (SELECT version FROM " + s + ".live), (SELECT count(*) FROM " + s + ".rooms), " +
		"(SELECT count(*) FROM " + s + ".members)"
	stop := make(chan struct{})
	var wg sync.WaitGroup
	readErrs := make([]error, 3)
	seen := make([]map[int]int, 3)
	for i := range readErrs {
		seen[i] = map[int]int{}
		wg.Go(func() {
			for n := 0; n < 100_000; n++ {
				select {
				case <-stop:
					return
				default:
				}
				var version, rooms, members int
				if err := pool.QueryRow(ctx, query).Scan(&version, &rooms, &members); err != nil {
					readErrs[i] = err
					return
				}
				if version != rooms || rooms != members {
					readErrs[i] = errors.New("mixed versions: live " + string(rune('0'+version)) + " with other rows")
					return
				}
				seen[i][version]++
			}
		})
	}
	for n := range 40 {
		if err := p.Switch(ctx, 1+n%2, 1+(n+1)%2); err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("switch %d: %v", n, err)
		}
	}
	close(stop)
	wg.Wait()
	if err := errors.Join(readErrs...); err != nil {
		t.Fatalf("a reader failed during the switches: %v", err)
	}
	total := 0
	for _, s := range seen {
		total += s[1] + s[2]
	}
	if total == 0 {
		t.Fatal("the readers read nothing")
	}
	assertLive(t, p, 1)
}

func assertLive(tb testing.TB, p *views.Projection, want int) {
	tb.Helper()
	v, ok, err := p.Live(testContext(tb))
	if err != nil || !ok || v != want {
		tb.Fatalf("Live = %d, %v, %v; want %d", v, ok, err, want)
	}
}

func assertViewRooms(tb testing.TB, p *views.Projection, want []string) {
	tb.Helper()
	pool := newPool(tb)
	rows, _ := pool.Query(testContext(tb), "SELECT id FROM "+pgx.Identifier{p.Name(), "rooms"}.Sanitize()+" ORDER BY id")
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || !slices.Equal(got, want) {
		tb.Fatalf("rooms view = %v, %v; want %v", got, err, want)
	}
}

// TestRacingSwitchesOneWins: two processes that both read version 1 live switch at once, one to 2 and one to 3:
// exactly one succeeds and the other gets ErrSwitchConflict, so neither can move the name back over the other.
func TestRacingSwitchesOneWins(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	pool := newPool(t)
	p := newProjection(t, pool)
	for v := 1; v <= 3; v++ {
		open(t, p, v)
	}
	if err := p.Switch(ctx, 0, 1); err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		from := 1 + round*2
		for _, v := range []int{from + 1, from + 2} {
			open(t, p, v)
		}
		won := projectiontest.RaceSwitches(t, ctx, p, from, from+1, from+2)
		assertLive(t, p, won)
		if won == from+1 { // continue from the odd version so that every round starts from 1+round*2
			if err := p.Switch(ctx, from+1, from+2); err != nil {
				t.Fatal(err)
			}
		}
	}
}
