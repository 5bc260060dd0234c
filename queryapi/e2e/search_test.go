package e2e

import (
	"strings"
	"testing"
)

// searchOrder: search results come newest first, like a room's messages (relevance would move between two pages
// while the index changes, so cursors could repeat or skip hits), and the highlight escapes the text's own markup.
func searchOrder(t *testing.T, sys *system) {
	x := randomHex(t, 4)
	kim := newUser(t, sys, "kim")
	reg := kim.register(t, "Kim "+x)
	room := kim.createRoom(t, "Birds "+x)
	owl := "owl" + x
	kim.search(t, owl, "", reg.ConsistencyToken)

	// Of two messages holding the word, the newer comes first, though the word weighs more in the older (three
	// times in three words) than in it (once among many).
	dense := kim.post(t, room.ID, owl+" "+owl+" "+owl)
	sparse := kim.post(t, room.ID, "only one "+owl+" was seen today, among many other birds, boats and clouds over the lake")
	hits := kim.search(t, owl, room.ID, sparse.ConsistencyToken)
	if len(hits.Items) != 2 || hits.Items[0].MessageID != sparse.MessageID || hits.Items[1].MessageID != dense.MessageID {
		var got []string
		for _, h := range hits.Items {
			got = append(got, h.MessageID+" "+h.Text)
		}
		t.Errorf("search %q = %q, want 2 hits newest first: %s, then %s", owl, got, sparse.MessageID, dense.MessageID)
	}

	// The highlight is markup (<em>): the text's own markup in it is escaped, so a client can render it as HTML.
	kiwi := "kiwi" + x
	markup := kim.post(t, room.ID, `<img src=x onerror=alert(1)> <b>`+kiwi+`</b> & "quotes"`)
	hits = kim.search(t, kiwi, room.ID, markup.ConsistencyToken)
	if len(hits.Items) != 1 {
		t.Fatalf("search %s = %+v, want the message with markup", kiwi, hits.Items)
	}
	checkHighlight(t, hits.Items[0], kiwi)
	if rest := strings.NewReplacer("<em>", "", "</em>", "").Replace(hits.Items[0].Highlight); strings.ContainsAny(rest, "<>") {
		t.Errorf("search %s: highlight %q carries the text's markup unescaped", kiwi, hits.Items[0].Highlight)
	}
}
