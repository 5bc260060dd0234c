package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestBackfillCommand runs `writer backfill-messages` as main wires it, on the tables of a writer that has taken
// a post and a deletion: it reports what it wrote, and the writer still edits and deletes as before.
func TestBackfillCommand(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	w := startWriter(t, cfg)
	w.must(201, "POST", "/v1/accounts", "ann", `{"name":"Ann"}`)
	room := w.must(201, "POST", "/v1/rooms", "ann", `{"name":"r"}`).body["id"].(string)
	kept := w.must(201, "POST", "/v1/rooms/"+room+"/messages", "ann", `{"text":"kept"}`).body["message_id"].(string)
	gone := w.must(201, "POST", "/v1/rooms/"+room+"/messages", "ann", `{"text":"gone"}`).body["message_id"].(string)
	w.must(200, "DELETE", "/v1/rooms/"+room+"/messages/"+gone, "ann", "")

	var out bytes.Buffer
	b, err := newBackfillMain(context.Background(), cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Run(context.Background()); err != nil {
		t.Fatalf("backfill: %v (%s)", err, out.String())
	}
	if got := strings.TrimSpace(out.String()); got != "message entities written: 2 posted, 1 deleted" {
		t.Errorf("backfill printed %q", got)
	}
	w.must(200, "POST", "/v1/rooms/"+room+"/messages/"+kept+"/edit", "ann", `{"text":"edited"}`)
	w.must(404, "POST", "/v1/rooms/"+room+"/messages/"+gone+"/edit", "ann", `{"text":"edited"}`)
}
