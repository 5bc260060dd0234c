package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrses-aws/pipeline/internal/kafka"
	"github.com/cqrses-aws/pipeline/internal/platform/testkit"
	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/projectors/readmodel"
	"github.com/cqrses-aws/pipeline/projectors/search"
	"github.com/cqrses-aws/pipeline/projectors/views"
	"github.com/cqrses-aws/pipeline/schemas"
)

// The search reference's bulk requests: search.Config's defaults, which the projectors process runs with.
const (
	refBulkSize     = 1000 // search.Config.BulkSize's default
	refBulkParallel = 4    // search.Config.BulkParallel's default
)

// referenceViews is the views benchmark's reference: it creates version 1 of the views called name (the same
// tables and indexes as the projection's), consumes the fixture's topics from offset zero, folds them with
// readmodel and COPYs only the final rows. It returns the time of all that and the counts of the rows, checked
// against the table, and the fold, and drops the schema.
func referenceViews(b *testing.B, f *replayFixture, pool *pgxpool.Pool, name string) (time.Duration, *readmodel.Model, error) {
	b.Helper()
	p, err := views.New(pool, views.Config{Name: name})
	if err != nil {
		return 0, nil, err
	}
	cleanup := func() error { return f.dropViews(pool, p) }
	b.Cleanup(func() {
		if err := cleanup(); err != nil {
			b.Error(err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), replayTimeout)
	defer cancel()
	schema := projection.TargetName(name, 1)
	start := time.Now()
	if _, err := p.Open(ctx, 1); err != nil {
		return 0, nil, err
	}
	opened := time.Now()
	m, err := foldTopics(ctx, f.st, f.prefix)
	if err != nil {
		return 0, nil, err
	}
	folded := time.Now()
	f.keepFold(m)
	if err := copyFinalRows(ctx, pool, schema, m); err != nil {
		return 0, nil, err
	}
	elapsed := time.Since(start)
	b.Logf("views reference: %s (open %s, consume+fold %s, copy %s)", elapsed.Round(time.Millisecond),
		opened.Sub(start).Round(time.Millisecond), folded.Sub(opened).Round(time.Millisecond), time.Since(folded).Round(time.Millisecond))
	want := countsOf(m)
	got, err := countViews(ctx, pool, schema)
	if err == nil && got != want {
		err = fmt.Errorf("the reference copied %+v, the fold holds %+v", got, want)
	}
	return elapsed, m, errors.Join(err, cleanup())
}

// referenceSearch is the search benchmark's reference: it creates version 1 of the index called name (the same
// mappings as the projection's), consumes the fixture's topics from offset zero, folds them with readmodel and
// bulk-indexes only the final message documents. It returns the time of all that and the number of messages,
// checked against the index, and the fold, and deletes the index.
func referenceSearch(b *testing.B, f *replayFixture, cl search.Client, name string) (time.Duration, *readmodel.Model, error) {
	b.Helper()
	p, err := search.New(cl, search.Config{Name: name})
	if err != nil {
		return 0, nil, err
	}
	cleanup := func() error { return f.dropSearch(cl, p) }
	b.Cleanup(func() {
		if err := cleanup(); err != nil {
			b.Error(err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), replayTimeout)
	defer cancel()
	start := time.Now()
	if _, err := p.Open(ctx, 1); err != nil {
		return 0, nil, err
	}
	opened := time.Now()
	m, err := foldTopics(ctx, f.st, f.prefix)
	if err != nil {
		return 0, nil, err
	}
	folded := time.Now()
	f.keepFold(m)
	if err := bulkMessages(ctx, cl, p.Index(1), m); err != nil {
		return 0, nil, err
	}
	elapsed := time.Since(start)
	b.Logf("search reference: %s (open %s, consume+fold %s, bulk %s of %d messages)", elapsed.Round(time.Millisecond),
		opened.Sub(start).Round(time.Millisecond), folded.Sub(opened).Round(time.Millisecond),
		time.Since(folded).Round(time.Millisecond), len(m.Messages))
	docs, err := countMessageDocs(ctx, cl, p.Index(1))
	if err == nil && docs != len(m.Messages) {
		err = fmt.Errorf("the reference indexed %d messages, the fold holds %d", docs, len(m.Messages))
	}
	return elapsed, m, errors.Join(err, cleanup())
}

// floorViews is the views' floor: what this machine needs at least to replay the history into the views. It
// opens version 1 of a fresh target called name, consumes the fixture's topics from offset zero without
// decoding a record, and COPYs fold's final rows (folded beforehand, untimed). It returns the time of all that
// and drops the schema.
func floorViews(b *testing.B, f *replayFixture, pool *pgxpool.Pool, name string, fold *readmodel.Model) (time.Duration, error) {
	b.Helper()
	p, err := views.New(pool, views.Config{Name: name})
	if err != nil {
		return 0, err
	}
	return f.floor(b, p, func() error { return f.dropViews(pool, p) }, func(ctx context.Context) error {
		return copyFinalRows(ctx, pool, projection.TargetName(name, 1), fold)
	})
}

// floorSearch is the search index's floor, as floorViews: open version 1 of a fresh index, consume without
// decoding, bulk-index fold's final message documents as the reference does.
func floorSearch(b *testing.B, f *replayFixture, cl search.Client, name string, fold *readmodel.Model) (time.Duration, error) {
	b.Helper()
	p, err := search.New(cl, search.Config{Name: name})
	if err != nil {
		return 0, err
	}
	return f.floor(b, p, func() error { return f.dropSearch(cl, p) }, func(ctx context.Context) error {
		return bulkMessages(ctx, cl, p.Index(1), fold)
	})
}

// floor times opening version 1 of p, consuming the fixture's topics without decoding, and write (the final
// rows), then runs cleanup; it returns the time and every failure joined.
func (f *replayFixture) floor(b *testing.B, p projection.Projection, cleanup func() error, write func(context.Context) error) (time.Duration, error) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), replayTimeout)
	defer cancel()
	start := time.Now()
	_, err := p.Open(ctx, 1)
	if err == nil {
		err = consumeRaw(ctx, f.st, f.prefix)
	}
	consumed := time.Now()
	if err == nil {
		err = write(ctx)
	}
	elapsed := time.Since(start)
	b.Logf("%s floor: %s (open+consume %s, write %s)", p.Name(), elapsed.Round(time.Millisecond),
		consumed.Sub(start).Round(time.Millisecond), time.Since(consumed).Round(time.Millisecond))
	return elapsed, errors.Join(err, cleanup())
}

// foldTopics reads the event topics of prefix from offset zero up to their end offsets with a plain consumer
// (no group), decodes every envelope and folds it into a readmodel.
func foldTopics(ctx context.Context, st testkit.Stack, prefix string) (*readmodel.Model, error) {
	m := readmodel.New()
	err := consumeTopics(ctx, st, prefix, func(r *kgo.Record) error {
		env, err := schemas.UnmarshalEnvelope(r.Value)
		if err != nil {
			return fmt.Errorf("decode %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
		}
		return m.Apply(env)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// consumeRaw reads the event topics of prefix from offset zero up to their end offsets, as foldTopics, without
// decoding a record: the floor of any replay's reading.
func consumeRaw(ctx context.Context, st testkit.Stack, prefix string) error {
	var bytes int
	err := consumeTopics(ctx, st, prefix, func(r *kgo.Record) error {
		bytes += len(r.Value)
		return nil
	})
	if err == nil && bytes == 0 {
		err = fmt.Errorf("the topics of %s hold no bytes", prefix)
	}
	return err
}

// consumeTopics reads the event topics of prefix from offset zero up to their end offsets (taken first) with a
// plain consumer (no group), and calls fn with every record in partition order; it stops at fn's first error.
func consumeTopics(ctx context.Context, st testkit.Stack, prefix string, fn func(*kgo.Record) error) error {
	var names []string
	for _, t := range kafka.EventTopics(prefix, replayPartitions) {
		names = append(names, t.Name)
	}
	cl, err := kafka.NewClient(st.Kafka, kgo.ConsumeTopics(names...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}
	defer cl.Close()
	ends, err := endOffsets(ctx, kadm.NewClient(cl), prefix)
	if err != nil {
		return err
	}
	left := 0
	for _, ps := range ends {
		for _, end := range ps {
			if end > 0 {
				left++
			}
		}
	}
	for left > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read %s: %d partitions short of their end: %w", prefix, left, err)
		}
		var errs []error
		fetches.EachError(func(topic string, partition int32, err error) {
			errs = append(errs, fmt.Errorf("fetch %s/%d: %w", topic, partition, err))
		})
		fetches.EachRecord(func(r *kgo.Record) {
			end := ends[r.Topic][r.Partition]
			if len(errs) > 0 || r.Offset >= end {
				return
			}
			if err := fn(r); err != nil {
				errs = append(errs, err)
				return
			}
			if r.Offset+1 == end {
				left--
			}
		})
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	return nil
}

// endOffsets returns the end offset of every partition of prefix's event topics.
func endOffsets(ctx context.Context, adm *kadm.Client, prefix string) (map[string]map[int32]int64, error) {
	var names []string
	for _, t := range kafka.EventTopics(prefix, replayPartitions) {
		names = append(names, t.Name)
	}
	listed, err := adm.ListEndOffsets(ctx, names...)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("end offsets of %s: %w", prefix, err)
	}
	ends := map[string]map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) {
		if ends[o.Topic] == nil {
			ends[o.Topic] = map[int32]int64{}
		}
		ends[o.Topic][o.Partition] = o.Offset
	})
	return ends, nil
}

// sumOffsets returns the sum of the offsets, the number of records of topics that start at zero.
func sumOffsets(ends map[string]map[int32]int64) int64 {
	var n int64
	for _, ps := range ends {
		for _, end := range ps {
			n += end
		}
	}
	return n
}

// copyFinalRows COPYs the model's accounts, rooms, members and messages into schema's tables, with the columns
// of projectors/views/migrations.
func copyFinalRows(ctx context.Context, pool *pgxpool.Pool, schema string, m *readmodel.Model) error {
	type member struct {
		roomID string
		readmodel.Member
	}
	accounts := slices.Collect(maps.Values(m.Accounts))
	rooms := slices.Collect(maps.Values(m.Rooms))
	var members []member
	for _, r := range rooms {
		for _, mem := range r.Members {
			members = append(members, member{r.ID, mem})
		}
	}
	messages := slices.Collect(maps.Values(m.Messages))
	tables := []struct {
		table string
		cols  []string
		src   pgx.CopyFromSource
	}{
		{"accounts", []string{"id", "name", "version"}, pgx.CopyFromSlice(len(accounts), func(i int) ([]any, error) {
			a := accounts[i]
			return []any{a.ID, a.Name, a.Version}, nil
		})},
		{"rooms", []string{"id", "name", "member_count", "last_message_at", "version"}, pgx.CopyFromSlice(len(rooms), func(i int) ([]any, error) {
			r := rooms[i]
			return []any{r.ID, r.Name, len(r.Members), nullTime(r.LastMessageAt), r.Version}, nil
		})},
		{"members", []string{"room_id", "account_id", "name", "role"}, pgx.CopyFromSlice(len(members), func(i int) ([]any, error) {
			mem := members[i]
			return []any{mem.roomID, mem.AccountID, mem.Name, string(mem.Role)}, nil
		})},
		{"messages", []string{"id", "room_id", "sender_id", "sender_name", "text", "posted_at", "edited_at"}, pgx.CopyFromSlice(len(messages), func(i int) ([]any, error) {
			msg := messages[i]
			return []any{msg.ID, msg.RoomID, msg.SenderID, msg.SenderName, msg.Text, msg.PostedAt, nullTime(msg.EditedAt)}, nil
		})},
	}
	for _, t := range tables {
		if _, err := pool.CopyFrom(ctx, pgx.Identifier{schema, t.table}, t.cols, t.src); err != nil {
			return fmt.Errorf("copy into %s.%s: %w", schema, t.table, err)
		}
	}
	return nil
}

// nullTime returns nil for the zero time, else t.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// viewCounts are the row counts of a views target, and the sum of its rooms' member_count.
type viewCounts struct {
	Accounts, Rooms, Members, Messages, MemberCount int64
}

// countsOf returns the counts a views target of m holds.
func countsOf(m *readmodel.Model) viewCounts {
	c := viewCounts{Accounts: int64(len(m.Accounts)), Rooms: int64(len(m.Rooms)), Messages: int64(len(m.Messages))}
	for _, r := range m.Rooms {
		c.Members += int64(len(r.Members))
	}
	c.MemberCount = c.Members
	return c
}

// countViews counts the rows of schema's tables.
func countViews(ctx context.Context, pool *pgxpool.Pool, schema string) (viewCounts, error) {
	s := pgx.Identifier{schema}.Sanitize()
	var c viewCounts
	err := pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM "+s+".accounts), (SELECT count(*) FROM "+s+".rooms), "+
		"(SELECT count(*) FROM "+s+".members), (SELECT count(*) FROM "+s+".messages), "+
		"(SELECT coalesce(sum(member_count), 0) FROM "+s+".rooms)").
		Scan(&c.Accounts, &c.Rooms, &c.Members, &c.Messages, &c.MemberCount)
	if err != nil {
		return viewCounts{}, fmt.Errorf("count the rows of %s: %w", schema, err)
	}
	return c, nil
}

// messageDoc is a message document as projectors/search/docs.go writes it.
type messageDoc struct {
	Kind       string     `json:"kind"`
	MessageID  string     `json:"message_id"`
	RoomID     string     `json:"room_id"`
	RoomName   string     `json:"room_name"`
	SenderID   string     `json:"sender_id"`
	SenderName string     `json:"sender_name"`
	Text       string     `json:"text"`
	PostedAt   time.Time  `json:"posted_at"`
	EditedAt   *time.Time `json:"edited_at"`
}

// bulkMessages indexes the model's messages into index, refBulkSize actions a request and up to
// refBulkParallel requests in flight; it fails on the first failed request or item.
func bulkMessages(ctx context.Context, cl search.Client, index string, m *readmodel.Model) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		errs  []error
		slots = make(chan struct{}, refBulkParallel)
	)
	send := func(body []byte) {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := bulk(ctx, cl, index, body); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	buf := new(bytes.Buffer)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	n := 0
	for _, msg := range m.Messages {
		meta := struct {
			Index struct {
				ID string `json:"_id"`
			} `json:"index"`
		}{}
		meta.Index.ID = msg.ID
		doc := messageDoc{Kind: "message", MessageID: msg.ID, RoomID: msg.RoomID, RoomName: msg.RoomName,
			SenderID: msg.SenderID, SenderName: msg.SenderName, Text: msg.Text, PostedAt: msg.PostedAt,
			EditedAt: nullTime(msg.EditedAt)}
		if err := errors.Join(enc.Encode(meta), enc.Encode(doc)); err != nil {
			return fmt.Errorf("encode message %s: %w", msg.ID, err)
		}
		if n++; n == refBulkSize {
			send(buf.Bytes())
			buf, n = new(bytes.Buffer), 0
			enc = json.NewEncoder(buf)
			enc.SetEscapeHTML(false)
		}
	}
	if n > 0 {
		send(buf.Bytes())
	}
	wg.Wait()
	return errors.Join(errs...)
}

// bulk sends one bulk body and fails when the request or any item failed.
func bulk(ctx context.Context, cl search.Client, index string, body []byte) error {
	raw, err := cl.Bulk(ctx, index, body)
	if err != nil {
		return fmt.Errorf("bulk to %s: %w", index, err)
	}
	var answer struct {
		Errors bool `json:"errors"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return fmt.Errorf("decode bulk answer: %w", err)
	}
	if answer.Errors {
		return fmt.Errorf("bulk to %s: failed items: %s", index, tail(string(raw), 1000))
	}
	return nil
}

// countMessageDocs refreshes index and counts its message documents.
func countMessageDocs(ctx context.Context, cl search.Client, index string) (int, error) {
	if err := cl.Refresh(ctx, index); err != nil {
		return 0, fmt.Errorf("refresh %s: %w", index, err)
	}
	raw, err := cl.Search(ctx, index, []byte(`{"size":0,"track_total_hits":true,"query":{"term":{"kind":"message"}}}`))
	if err != nil {
		return 0, fmt.Errorf("count messages of %s: %w", index, err)
	}
	var answer struct {
		Hits struct {
			Total struct{ Value int } `json:"total"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return 0, fmt.Errorf("decode the count of %s: %w", index, err)
	}
	return answer.Hits.Total.Value, nil
}

// benchPool returns a pool on the stack's Postgres, closed when the benchmark ends.
func benchPool(b *testing.B) *pgxpool.Pool {
	b.Helper()
	pool, err := pgxpool.New(context.Background(), testkit.MustStack(b).Postgres.URL.Reveal())
	if err != nil {
		b.Fatalf("postgres pool: %v", err)
	}
	b.Cleanup(pool.Close)
	return pool
}
