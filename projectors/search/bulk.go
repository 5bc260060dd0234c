package search

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/valyala/fastjson"

	"github.com/cqrses-aws/pipeline/schemas"
)

// parsers parse the servers' answers; fastjson reads a bulk answer of a thousand items without allocating
// per item.
var parsers fastjson.ParserPool

// bulkWriter gathers actions into NDJSON bodies of at most size actions and sends each when full, with up to
// cap(slots) requests in flight; flush waits for all of them. Callers flush between actions that must be
// ordered (an id is written at most once between two flushes).
type bulkWriter struct {
	cl    Client
	index string
	size  int
	buf   []byte
	n     int
	slots chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	err   error
}

func newBulkWriter(cl Client, index string, size, parallel int) *bulkWriter {
	return &bulkWriter{cl: cl, index: index, size: size, slots: make(chan struct{}, parallel)}
}

// bufs recycles bulk bodies between requests.
var bufs = sync.Pool{New: func() any { return new([]byte) }}

// appendMeta appends the action line of op on id with an external version.
func appendMeta(dst []byte, op, id string, version int64, versionType string) []byte {
	dst = append(dst, `{"`...)
	dst = append(dst, op...)
	dst = append(dst, `":{"_id":`...)
	dst = schemas.AppendJSONString(dst, id)
	dst = append(dst, `,"version":`...)
	dst = strconv.AppendInt(dst, version, 10)
	dst = append(dst, `,"version_type":"`...)
	dst = append(dst, versionType...)
	return append(dst, "\"}}\n"...)
}

// message adds m's action: a delete when m is deleted, else an index of its document; both with m's version,
// external, so that an older or equal version is refused as already applied.
func (w *bulkWriter) message(ctx context.Context, m *message) error {
	if m.deleted {
		w.buf = appendMeta(w.buf, "delete", m.id, m.version(), "external")
	} else {
		w.buf = appendMeta(w.buf, "index", m.id, m.version(), "external")
		w.buf = append(appendMessageDoc(w.buf, m), '\n')
	}
	return w.added(ctx)
}

func (w *bulkWriter) added(ctx context.Context) error {
	w.n++
	if w.n >= w.size {
		return w.send(ctx)
	}
	return nil
}

// send starts the request of the gathered actions; it returns the first error of an earlier request, if any.
func (w *bulkWriter) send(ctx context.Context) error {
	if err := w.failed(); err != nil {
		return err
	}
	if w.n == 0 {
		return nil
	}
	body, n := w.buf, w.n
	next := bufs.Get().(*[]byte)
	w.buf, w.n = (*next)[:0], 0
	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	w.wg.Go(func() {
		defer func() { <-w.slots }()
		err := w.do(ctx, body, n)
		b := body[:0]
		bufs.Put(&b)
		if err != nil {
			w.mu.Lock()
			w.err = errors.Join(w.err, err)
			w.mu.Unlock()
		}
	})
	return nil
}

func (w *bulkWriter) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// flush sends the gathered actions and waits for every request in flight.
func (w *bulkWriter) flush(ctx context.Context) error {
	err := w.send(ctx)
	w.wg.Wait()
	return errors.Join(err, w.failed())
}

// do sends one body. A version conflict on an item means the item was already applied, and a delete of a
// missing document has nothing to do; any other failed item fails the request.
func (w *bulkWriter) do(ctx context.Context, body []byte, n int) error {
	raw, err := w.cl.Bulk(ctx, w.index, body)
	if err != nil {
		return fmt.Errorf("bulk of %d actions to %s: %w", n, w.index, err)
	}
	if err := checkBulk(raw); err != nil {
		return fmt.Errorf("bulk of %d actions to %s: %w", n, w.index, err)
	}
	return nil
}

// checkBulk returns an error naming the failed items of a bulk answer, if any. An answer without errors, by far
// the most common, is recognized from its start ({"took":N,"errors":false,…}) without parsing its items.
func checkBulk(raw []byte) error {
	head := raw[:min(len(raw), 64)]
	if i := bytes.Index(head, []byte(`"errors":`)); i >= 0 && bytes.HasPrefix(raw[i+len(`"errors":`):], []byte("false")) {
		return nil
	}
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.ParseBytes(raw)
	if err != nil {
		return fmt.Errorf("decode bulk answer: %w", err)
	}
	if !v.GetBool("errors") {
		return nil
	}
	var failed []string
	count := 0
	for _, item := range v.GetArray("items") {
		obj, err := item.Object()
		if err != nil {
			return fmt.Errorf("decode bulk item: %w", err)
		}
		obj.Visit(func(op []byte, res *fastjson.Value) {
			status := res.GetInt("status")
			switch {
			case status >= 200 && status < 300, status == http.StatusConflict:
			case status == http.StatusNotFound && string(op) == "delete":
			default:
				count++
				if len(failed) < 3 {
					failed = append(failed, fmt.Sprintf("%s %s: %d %s: %s", op, res.GetStringBytes("_id"), status,
						res.GetStringBytes("error", "type"), res.GetStringBytes("error", "reason")))
				}
			}
		})
	}
	if count == 0 {
		return nil
	}
	return fmt.Errorf("%d items failed: %s", count, strings.Join(failed, "; "))
}

// errNotObject is the answer to a document that is not a JSON object.
var errNotObject = errors.New("not a JSON object")

// mget reads ids from index with one request and calls fn for every document found, with the document's entry
// of the answer (_version, _seq_no, _primary_term) and its source; fn must not keep doc or src after returning.
func mget(ctx context.Context, cl Client, index string, ids []string, fn func(id string, doc, src *fastjson.Value) error) error {
	if len(ids) == 0 {
		return nil
	}
	body := make([]byte, 0, 16+len(ids)*40)
	body = append(body, `{"ids":[`...)
	for i, id := range ids {
		if i > 0 {
			body = append(body, ',')
		}
		body = schemas.AppendJSONString(body, id)
	}
	body = append(body, "]}"...)
	raw, err := cl.Mget(ctx, index, body)
	if err != nil {
		return fmt.Errorf("mget %d documents from %s: %w", len(ids), index, err)
	}
	// Not a pooled parser: an answer of state buckets grows with the aggregates (megabytes of values), and a
	// pool would keep one such parse per concurrent caller alive between batches.
	var p fastjson.Parser
	v, err := p.ParseBytes(raw)
	if err != nil {
		return fmt.Errorf("decode mget answer: %w", err)
	}
	for _, doc := range v.GetArray("docs") {
		id := string(doc.GetStringBytes("_id"))
		if e := doc.Get("error"); e != nil {
			return fmt.Errorf("mget %s from %s: %s", id, index, e)
		}
		if !doc.GetBool("found") {
			continue
		}
		src := doc.Get("_source")
		if src == nil || src.Type() != fastjson.TypeObject {
			return fmt.Errorf("mget %s from %s: source %w", id, index, errNotObject)
		}
		if err := fn(id, doc, src); err != nil {
			return err
		}
	}
	return nil
}
