// Package streamtest is an in-memory stream.Source whose shards split, whose iterators expire, whose oldest
// records are trimmed and whose calls are throttled on demand: what the local DynamoDB API server never does.
// It also records which named reader read which shard.
package streamtest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/cqrses-aws/pipeline/relay/stream"
)

// ARN is a stream ARN for tests that need only one fake stream.
const ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/journal/stream/fake"

// Fake is one stream in memory. Its methods are safe for concurrent use.
type Fake struct {
	arn      string
	pageSize int

	mu        sync.Mutex
	shards    []*shard
	byID      map[string]*shard
	bySeq     map[string]position
	nextSeq   int64
	gen       int
	throttle  int
	failNext  int
	expireNth int
	calls     int
	readLog   []Read
}

type shard struct {
	id, parent string
	closed     bool
	records    []stream.Record
	trimmed    int // records removed from the front
}

type position struct {
	shard string
	index int
}

// Read is one page of records a named reader got: which shard and how many records.
type Read struct {
	Reader  string
	Shard   string
	Records int
}

// New returns an empty stream with the given ARN and page size (at most that many records per page).
func New(arn string, pageSize int) *Fake {
	return &Fake{arn: arn, pageSize: pageSize, byID: map[string]*shard{}, bySeq: map[string]position{}}
}

// AddShard adds an open shard, a child of parent when parent is not empty.
func (f *Fake) AddShard(id, parent string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := &shard{id: id, parent: parent}
	f.shards = append(f.shards, s)
	f.byID[id] = s
}

// Append adds inserts of the items to the shard, with increasing sequence numbers; it panics on an unknown or
// closed shard, a mistake of the test.
func (f *Fake) Append(shardID string, items ...map[string]types.AttributeValue) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.byID[shardID]
	if s == nil || s.closed {
		panic(fmt.Sprintf("streamtest: append to unknown or closed shard %q", shardID))
	}
	for _, item := range items {
		f.nextSeq++
		seq := fmt.Sprintf("%021d", f.nextSeq)
		f.bySeq[seq] = position{shard: shardID, index: len(s.records)}
		s.records = append(s.records, stream.Record{
			SequenceNumber: seq, ApproximateCreation: time.Now(), Insert: true, NewImage: item,
		})
	}
}

// Split closes the shard and adds the children, as DynamoDB does when a partition splits or a shard rolls over.
func (f *Fake) Split(shardID string, children ...string) {
	f.mu.Lock()
	f.byID[shardID].closed = true
	f.mu.Unlock()
	for _, c := range children {
		f.AddShard(c, shardID)
	}
}

// Remove drops a shard from the stream, as DynamoDB does once a closed shard's records are all older than 24 h.
func (f *Fake) Remove(shardID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shards = slices.DeleteFunc(f.shards, func(s *shard) bool { return s.id == shardID })
	delete(f.byID, shardID)
}

// Trim drops the oldest n records of the shard, as the stream's 24-hour retention does.
func (f *Fake) Trim(shardID string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.byID[shardID]
	s.trimmed = min(s.trimmed+n, len(s.records))
}

// ExpireIterators makes every iterator handed out so far expired.
func (f *Fake) ExpireIterators() {
	f.mu.Lock()
	f.gen++
	f.mu.Unlock()
}

// ExpireEvery makes every nth Records call find its iterator expired (0: never).
func (f *Fake) ExpireEvery(n int) {
	f.mu.Lock()
	f.expireNth = n
	f.mu.Unlock()
}

// Throttle makes the next n calls fail with ErrThrottled.
func (f *Fake) Throttle(n int) {
	f.mu.Lock()
	f.throttle += n
	f.mu.Unlock()
}

// Fail makes the next n calls fail with a plain error, as a network failure would.
func (f *Fake) Fail(n int) {
	f.mu.Lock()
	f.failNext += n
	f.mu.Unlock()
}

// Reads returns every page read so far, in order.
func (f *Fake) Reads() []Read {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Read(nil), f.readLog...)
}

// As returns a view of the stream whose page reads are recorded under reader.
func (f *Fake) As(reader string) stream.Source { return view{f: f, reader: reader} }

type view struct {
	f      *Fake
	reader string
}

// StreamARN returns the fake's ARN, whatever the table.
func (v view) StreamARN(ctx context.Context, table string) (string, error) { return v.f.arn, nil }

// Shards returns the shards in the order they were added.
func (v view) Shards(ctx context.Context, arn string) ([]stream.Shard, error) {
	f := v.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.injected(); err != nil {
		return nil, err
	}
	out := make([]stream.Shard, 0, len(f.shards))
	for _, s := range f.shards {
		out = append(out, stream.Shard{ID: s.id, ParentID: s.parent, Closed: s.closed})
	}
	return out, nil
}

// Iterator returns an iterator after the sequence number, or at the oldest record kept.
func (v view) Iterator(ctx context.Context, arn, shardID, after string) (string, error) {
	f := v.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.injected(); err != nil {
		return "", err
	}
	s := f.byID[shardID]
	if s == nil {
		return "", fmt.Errorf("shard %s: %w", shardID, stream.ErrNotFound)
	}
	index := s.trimmed
	if after != "" {
		p, ok := f.bySeq[after]
		if !ok || p.shard != shardID {
			return "", fmt.Errorf("sequence number %s is not in shard %s", after, shardID)
		}
		if p.index+1 < s.trimmed {
			return "", fmt.Errorf("after %s: %w", after, stream.ErrTrimmed)
		}
		index = p.index + 1
	}
	return f.iterator(shardID, index), nil
}

// Records returns a page of at most the fake's page size, recording the read under the view's reader.
func (v view) Records(ctx context.Context, iterator string) (stream.Page, error) {
	f := v.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.injected(); err != nil {
		return stream.Page{}, err
	}
	f.calls++
	parts := strings.Split(iterator, "|")
	if len(parts) != 3 {
		return stream.Page{}, fmt.Errorf("malformed iterator %q", iterator)
	}
	s := f.byID[parts[0]]
	if s == nil {
		return stream.Page{}, fmt.Errorf("shard %s: %w", parts[0], stream.ErrNotFound)
	}
	index, _ := strconv.Atoi(parts[1])
	gen, _ := strconv.Atoi(parts[2])
	if gen != f.gen || (f.expireNth > 0 && f.calls%f.expireNth == 0) {
		return stream.Page{}, fmt.Errorf("iterator of %s: %w", parts[0], stream.ErrExpiredIterator)
	}
	if index < s.trimmed {
		return stream.Page{}, fmt.Errorf("iterator of %s at %d: %w", s.id, index, stream.ErrTrimmed)
	}
	end := min(index+f.pageSize, len(s.records))
	page := stream.Page{Records: append([]stream.Record(nil), s.records[index:end]...)}
	if !s.closed || end < len(s.records) {
		page.Next = f.iterator(s.id, end)
	}
	f.readLog = append(f.readLog, Read{Reader: v.reader, Shard: s.id, Records: len(page.Records)})
	return page, nil
}

// injected returns the next injected failure, if any; f.mu is held.
func (f *Fake) injected() error {
	switch {
	case f.throttle > 0:
		f.throttle--
		return fmt.Errorf("injected: %w", stream.ErrThrottled)
	case f.failNext > 0:
		f.failNext--
		return fmt.Errorf("injected: connection reset")
	}
	return nil
}

func (f *Fake) iterator(shardID string, index int) string {
	return shardID + "|" + strconv.Itoa(index) + "|" + strconv.Itoa(f.gen)
}
