package search_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/projectiontest"
	"github.com/cqrses-aws/pipeline/projectors/search"
)

// TestLifecycle opens versions, switches the alias between them (while a reader checks that it always points
// at exactly one), and drops them.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	eachClient(t, func(t *testing.T, cl search.Client) {
		p := newProjection(t, cl, search.Config{})
		c := ctx(t)
		if v, ok, err := p.Live(c); err != nil || ok {
			t.Fatalf("Live before any index = %d, %v, %v; want not ok", v, ok, err)
		}
		if vs, err := p.Versions(c); err != nil || len(vs) != 0 {
			t.Fatalf("Versions before any index = %v, %v; want none", vs, err)
		}
		for _, v := range []int{1, 2, 1} { // opening twice is fine
			if _, err := p.Open(c, v); err != nil {
				t.Fatalf("open %d: %v", v, err)
			}
		}
		if vs, err := p.Versions(c); err != nil || !slices.Equal(vs, []int{1, 2}) {
			t.Fatalf("Versions = %v, %v; want [1 2]", vs, err)
		}
		if err := p.Switch(c, 0, 3); err == nil {
			t.Errorf("Switch to a missing version succeeded")
		}
		if err := p.Switch(c, 2, 1); !errors.Is(err, projection.ErrSwitchConflict) {
			t.Errorf("Switch from a version that is not live = %v, want ErrSwitchConflict", err)
		}
		if err := p.Switch(c, 0, 1); err != nil {
			t.Fatalf("switch 1: %v", err)
		}
		if err := p.Switch(c, 0, 2); !errors.Is(err, projection.ErrSwitchConflict) {
			t.Errorf("Switch as if none were live = %v, want ErrSwitchConflict", err)
		}
		if v, ok, err := p.Live(c); err != nil || !ok || v != 1 {
			t.Fatalf("Live = %d, %v, %v; want 1", v, ok, err)
		}

		// A reader sees one live version at every moment while the alias moves back and forth.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var readErr error
		reads := 0
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				v, ok, err := p.Live(context.Background())
				reads++
				if err != nil || !ok || (v != 1 && v != 2) {
					readErr = errors.Join(err, errors.New("alias not on exactly one version"))
					return
				}
			}
		})
		for i := range 10 {
			if err := p.Switch(c, 1+i%2, 2-i%2); err != nil {
				t.Errorf("switch: %v", err)
			}
		}
		close(stop)
		wg.Wait()
		if readErr != nil {
			t.Fatalf("reader during switches (after %d reads): %v", reads, readErr)
		}
		if v, ok, err := p.Live(c); err != nil || !ok || v != 1 {
			t.Fatalf("Live after the switches = %d, %v, %v; want 1", v, ok, err)
		}

		if err := p.Drop(c, 1); !errors.Is(err, projection.ErrLive) {
			t.Errorf("Drop of the live version = %v, want ErrLive", err)
		}
		if err := p.Switch(c, 1, 2); err != nil {
			t.Fatalf("switch 2: %v", err)
		}
		for range 2 { // dropping a missing version succeeds
			if err := p.Drop(c, 1); err != nil {
				t.Fatalf("drop 1: %v", err)
			}
		}
		if vs, err := p.Versions(c); err != nil || !slices.Equal(vs, []int{2}) {
			t.Fatalf("Versions after drop = %v, %v; want [2]", vs, err)
		}
		if v, ok, err := p.Live(c); err != nil || !ok || v != 2 {
			t.Fatalf("Live after drop = %d, %v, %v; want 2", v, ok, err)
		}
	})
}

// TestNewValidates rejects bad configurations and fills defaults.
func TestNewValidates(t *testing.T) {
	t.Parallel()
	cl := openSearchClient(t)
	for _, cfg := range []search.Config{{Name: "Upper"}, {Name: "a*b"}, {Version: -1}, {BulkSize: -5}, {Replicas: -1},
		{MaxRequestBytes: 100}, {MaxRequestBytes: search.DefaultMaxRequestBytes + 1}} {
		if _, err := search.New(cl, cfg); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", cfg)
		}
	}
	p, err := search.New(cl, search.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "search" || p.Version() != 2 || p.Index(3) != "search_v3" {
		t.Errorf("defaults: name %q version %d index %q", p.Name(), p.Version(), p.Index(3))
	}
}

// TestRacingSwitchesOneWins: two processes that both read version 1 live move the alias at once, one to 2 and
// one to 3: exactly one succeeds, the other gets ErrSwitchConflict, and the alias is on the winner only.
func TestRacingSwitchesOneWins(t *testing.T) {
	t.Parallel()
	eachClient(t, func(t *testing.T, cl search.Client) {
		p := newProjection(t, cl, search.Config{})
		c := ctx(t)
		for v := 1; v <= 3; v++ {
			if _, err := p.Open(c, v); err != nil {
				t.Fatalf("open %d: %v", v, err)
			}
		}
		if err := p.Switch(c, 0, 1); err != nil {
			t.Fatal(err)
		}
		won := projectiontest.RaceSwitches(t, c, p, 1, 2, 3)
		if v, ok, err := p.Live(c); err != nil || !ok || v != won {
			t.Fatalf("Live = %d, %v, %v; want %d", v, ok, err, won)
		}
	})
}
