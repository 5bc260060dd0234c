package e2e

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/internal/systemtest"
	"github.com/cqrses-aws/pipeline/projectors/search"
	"github.com/cqrses-aws/pipeline/queryapi/adapters"
)

// heldSystem is a system whose projectors reach Postgres through a proxy: stopping the proxy holds the views
// behind while the search index goes on; the test reads both read models' progress directly.
type heldSystem struct {
	*system
	// viewsLink is the projectors' way to Postgres; the query APIs reach Postgres directly.
	viewsLink *testkit.Proxy
	// viewsApplied and searchApplied read how far each read model applied aggregates, as the query API sees
	// them (the search's as searches see it, refreshing when needed).
	viewsApplied, searchApplied func(ctx context.Context, ids []string) (map[string]int64, error)
}

// startHeldSystem starts one writer, the relay, the projectors (their Postgres behind a proxy) and the two
// query APIs of startSystem, and waits until an event went through to both read models.
func startHeldSystem(t *testing.T) *heldSystem {
	t.Helper()
	st := testkit.MustStack(t)
	pgURL, err := url.Parse(st.Postgres.URL.Reveal())
	if err != nil {
		t.Fatalf("POSTGRES_URL: %v", err)
	}
	link := testkit.NewProxy(t, pgURL.Host)
	viaProxy := *pgURL
	viaProxy.Host = link.Addr()
	sys := systemtest.Start(t, systemtest.Options{
		Name: "e2eh", Secret: secret, Partitions: 3,
		QueryAPIs: []systemtest.QueryAPI{
			{Name: "queryapi", ConsistencyTimeout: consistencyTimeout},
			{Name: "queryapi-fast", ConsistencyTimeout: fastTimeout},
		},
		RelayScanInterval: 200 * time.Millisecond, RelayIdleWait: 20 * time.Millisecond, RelayLeaseTTL: 3 * time.Second,
		ProjectorsPollInterval: 200 * time.Millisecond,
		Env:                    map[string]map[string]string{"projectors": {"POSTGRES_URL": viaProxy.String()}},
		WaitPipeline:           true,
	})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, st.Postgres.URL.Reveal())
	if err != nil {
		t.Fatalf("connect to Postgres: %v", err)
	}
	t.Cleanup(pool.Close)
	cl, err := search.NewClient(st.Search, true, func() (*opensearchapi.Client, error) { return testkit.OpenSearch(t), nil })
	if err != nil {
		t.Fatalf("search client: %v", err)
	}
	return &heldSystem{
		system:        &system{System: sys, fastQuery: sys.QueryAPIs[1]},
		viewsLink:     link,
		viewsApplied:  adapters.NewViewsPostgresReader(pool, sys.Views).AppliedSeqs,
		searchApplied: adapters.SearchProgress(cl, sys.Search),
	}
}

// appliedSeq returns how far read applied aggregate id (0: never), failing the test when it cannot be read.
func appliedSeq(t *testing.T, read func(context.Context, []string) (map[string]int64, error), id string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seqs, err := read(ctx, []string{id})
	if err != nil {
		t.Fatalf("read the progress of %s: %v", id, err)
	}
	return seqs[id]
}

// TestReadModelAuthority starts one system whose views can be held behind and runs, in turn, the scenarios of
// issue 13 that need it: consistency tokens reveal nothing to another caller, and the views are the one
// authority on what search shows.
func TestReadModelAuthority(t *testing.T) {
	sys := startHeldSystem(t)
	t.Run("tokens reveal nothing", func(t *testing.T) { tokensRevealNothing(t, sys.system) })
	t.Run("the views vouch for every search hit", func(t *testing.T) { viewsVouchForSearch(t, sys) })
}

// viewsVouchForSearch holds the views behind while the search index applies a member's removal and a message
// after it: the removed member sees neither that message nor the room in search, though the index has both;
// once the views catch up, the members who remain see the message and the removed one still nothing.
func viewsVouchForSearch(t *testing.T, sys *heldSystem) {
	x := randomHex(t, 4)
	ann, bob := newUser(t, sys.system, "ann"), newUser(t, sys.system, "bob")
	ann.register(t, "Ann")
	bob.register(t, "Bob")
	room := ann.createRoom(t, "Held "+x).ID
	ann.addMember(t, room, bob, "member")
	before := ann.post(t, room, "before w"+x)
	// bob sees the room's message while he is a member: the search and the filter on it work.
	ann.search(t, "w"+x, room, before.ConsistencyToken) // ann's own token: both read models applied the post
	if page := bob.search(t, "w"+x, "", ""); len(page.Items) != 1 || page.Items[0].MessageID != before.MessageID {
		t.Fatalf("bob's search while a member = %+v, want the message before", page.Items)
	}

	sys.viewsLink.Stop()
	held := appliedSeq(t, sys.viewsApplied, room)
	removed := ann.removeMember(t, room, bob)
	after := ann.post(t, room, "after w"+x)
	// Also after the removal: the message bob saw is edited and the room renamed.
	ann.edit(t, room, before.MessageID, "edited zq"+x)
	renamed := ann.renameRoom(t, room, "Renamed "+x)
	testkit.Eventually(t, 30*time.Second, "the search index applies the removal, the message, the edit and the rename after it", func() bool {
		return appliedSeq(t, sys.searchApplied, room) >= renamed.Version
	})
	if v := appliedSeq(t, sys.viewsApplied, room); v >= removed.Version || v != held {
		t.Fatalf("the views applied room %s up to %d (held at %d), want them held before the removal at %d", room,
			v, held, removed.Version)
	}

	// The index has the message after the removal; the views still count bob as a member, applied only up to
	// before the removal, so nothing the index has beyond that reaches him (or anyone).
	for _, q := range []url.Values{
		params("q", "after w"+x), params("q", "w"+x), params("q", "after w"+x, "room_id", room), params("q", "zq"+x),
	} {
		for _, base := range []string{sys.Query, sys.fastQuery} {
			a := queryAs(t, base, bob.token, "/v1/search", q)
			page := decode[searchPage](t, a)
			for _, h := range page.Items {
				if h.MessageID == after.MessageID || h.RoomID == room && h.MessageID != before.MessageID {
					t.Errorf("bob's search %v shows %+v, posted after his removal", q, h)
				}
				if h.MessageID == before.MessageID && (h.Text != "before w"+x || h.RoomName != "Held "+x) {
					t.Errorf("bob's search %v shows %+v: the edit or the room's rename made after his removal", q, h)
				}
			}
		}
	}
	if page := decode[searchPage](t, ann.get(t, "/v1/search", params("q", "after w"+x))); len(page.Items) != 0 {
		t.Errorf("ann's search shows %+v before the views applied it", page.Items)
	}

	sys.viewsLink.Start()
	page := ann.search(t, "after w"+x, "", after.ConsistencyToken)
	if len(page.Items) != 1 || page.Items[0].MessageID != after.MessageID {
		t.Errorf("ann's search once the views caught up = %+v, want the message after", page.Items)
	}
	if page := bob.search(t, "w"+x, "", ""); len(page.Items) != 0 {
		t.Errorf("bob's search after his removal applied = %+v, want nothing", page.Items)
	}
	expect(t, bob.get(t, "/v1/rooms/"+room, nil), 404)
}
