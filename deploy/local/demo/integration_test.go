package main

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/internal/platform/service/servicetest"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
)

func TestMain(m *testing.M) { servicetest.Main(m) }

// TestLoadIntoARealWriter runs the loader against a writer process on the local stack's DynamoDB: it exits 0,
// reports the plan's counts, and the journal of the demo account's room holds exactly the events those
// commands make. A second run finds the accounts registered and creates new rooms.
func TestLoadIntoARealWriter(t *testing.T) {
	t.Parallel()
	const secret, seed, messages = "demo-integration-secret-0123456789", 3, 60
	prefix := testkit.UniqueName(t, "demo")
	bucket := testkit.S3Bucket(t)
	clients := testkit.AWS(t)
	tables := eventstore.TablesWithPrefix(prefix)
	// Registered before the writer starts, so it runs after the writer has stopped.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		testkit.DeleteTables(ctx, t, clients.DynamoDB, tables.Names()...)
	})
	writer := servicetest.StartProcess(t, servicetest.Binary(t, "../../../writer"), "writer", nil, map[string]string{
		"DYNAMODB_TABLE_PREFIX": prefix, "SNAPSHOT_BUCKET": bucket, "DYNAMODB_CREATE_TABLES": "true",
		"AUTH_HS256_SECRET": secret,
	})
	url := "http://" + writer.Addr(t)
	// The writer creates its tables in the background after it listens.
	testkit.Eventually(t, 30*time.Second, "the writer is ready", func() bool {
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	getenv := func(k string) string { return map[string]string{"AUTH_HS256_SECRET": secret}[k] }
	load := func(messages int) string {
		t.Helper()
		var out, errOut bytes.Buffer
		start := time.Now()
		args := []string{"-writer", url, "-messages", strconv.Itoa(messages), "-seed", strconv.Itoa(seed)}
		if code := run(context.Background(), args, getenv, &out, &errOut); code != 0 {
			t.Fatalf("loader exit %d: %s\n%s", code, errOut.String(), out.String())
		}
		t.Logf("%d messages loaded in %s", messages, time.Since(start).Round(time.Millisecond))
		return out.String()
	}

	plan := Generate(seed, messages)
	want := expected(plan, 0)
	out := load(messages)
	rep := Report{Counts: want}
	if summary := counts(rep, &Client{}); !strings.Contains(out, strings.Split(summary, ";")[0]+";") {
		t.Errorf("summary does not report %q:\n%s", strings.Split(summary, ";")[0], out)
	}
	room := checkSummary(t, out, secret, "http://127.0.0.1:8081")

	// The journal of the demo account's room (plan room 0, "general") holds one event per command on it.
	events := 1 + len(plan.Rooms[0].Members)
	if plan.Rooms[0].Rename != "" {
		events++
	}
	for _, m := range plan.Messages {
		if m.Room != 0 {
			continue
		}
		events++
		if m.Edit != "" {
			events++
		}
		if m.DeletedBy != "" {
			events++
		}
	}
	store, err := eventstore.NewDynamoDB(eventstore.DynamoDBConfig{DynamoDB: clients.DynamoDB, S3: clients.S3, Tables: tables, Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := store.Load(context.Background(), room, 0)
	if err != nil {
		t.Fatalf("load %s: %v", room, err)
	}
	if len(recs) != events {
		t.Errorf("journal of %s holds %d events, want %d", room, len(recs), events)
	}

	out = load(0)
	if want := "12 accounts (0 new, 12 existing), 8 rooms, 44 members added"; !strings.Contains(out, want) {
		t.Errorf("second run does not report %q:\n%s", want, out)
	}
}
