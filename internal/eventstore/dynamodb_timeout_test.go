package eventstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
)

// silentStore returns a store whose DynamoDB and S3 endpoint is a local server that accepts every request and
// never answers, except that it gives the snapshot pointer of room-1 (an S3 key) and then the headers and the
// first bytes of that object, whose body it never finishes.
func silentStore(t *testing.T, callTimeout time.Duration) *eventstore.DynamoDB {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".GetItem") && bytes.Contains(body, []byte("-snapshots")):
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			_, _ = w.Write([]byte(`{"Item":{"aid":{"S":"room-1"},"seq":{"N":"1"},"s3_key":{"S":"snapshots/room-1/x"}}}`))
			return
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/snapshots/room-1/x"):
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(make([]byte, 10))
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	store, err := eventstore.NewDynamoDB(eventstore.DynamoDBConfig{
		DynamoDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
		S3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.BaseEndpoint = aws.String(srv.URL)
			o.UsePathStyle = true
		}),
		Tables: eventstore.TablesWithPrefix("silent"), Bucket: "silent", CallTimeout: callTimeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	return store
}

// storeCalls are one call of each kind the store makes.
func storeCalls(store *eventstore.DynamoDB) map[string]func(ctx context.Context) error {
	ev := eventstore.Record{
		AggregateID: "room-1", AggregateType: "room", Seq: 1, Type: "RoomCreated", Version: 1, EventID: "e1", Payload: []byte(`{}`),
	}
	large := eventstore.Snapshot{AggregateID: "room-1", Seq: 1, State: make([]byte, 1<<20)}
	return map[string]func(ctx context.Context) error{
		"append": func(ctx context.Context) error {
			return store.Append(ctx, eventstore.AppendRequest{AggregateID: "room-1", Events: []eventstore.Record{ev}})
		},
		"load":                   func(ctx context.Context) error { _, err := store.Load(ctx, "room-1", 0); return err },
		"entity":                 func(ctx context.Context) error { _, err := store.Entity(ctx, "room-1/msg-1"); return err },
		"idempotency":            func(ctx context.Context) error { _, err := store.Idempotency(ctx, "k"); return err },
		"snapshot object's body": func(ctx context.Context) error { _, err := store.LatestSnapshot(ctx, "room-1"); return err },
		"save a large snapshot":  func(ctx context.Context) error { return store.SaveSnapshot(ctx, large) },
		"ping":                   store.Ping,
		"create tables":          store.CreateTables,
	}
}

// TestDynamoDBCallTimeout checks that a server that never answers fails each call with ErrUnavailable once the
// call timeout passes, long before the caller's own deadline.
func TestDynamoDBCallTimeout(t *testing.T) {
	t.Parallel()
	const callTimeout = 100 * time.Millisecond
	for name, call := range storeCalls(silentStore(t, callTimeout)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			start := time.Now()
			err := call(ctx)
			took := time.Since(start)
			if !errors.Is(err, eventstore.ErrUnavailable) {
				t.Fatalf("got %v, want ErrUnavailable", err)
			}
			if took < callTimeout || took > 5*time.Second {
				t.Errorf("failed after %v, want soon after the call timeout of %v", took, callTimeout)
			}
		})
	}
}

// TestDynamoDBCallerDeadlineFirst checks that a caller's deadline earlier than the call timeout ends the call
// with the context's error, not ErrUnavailable.
func TestDynamoDBCallerDeadlineFirst(t *testing.T) {
	t.Parallel()
	for name, call := range storeCalls(silentStore(t, time.Minute)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			defer cancel()
			err := call(ctx)
			if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, eventstore.ErrUnavailable) {
				t.Errorf("got %v, want the context's error alone", err)
			}
		})
	}
}
