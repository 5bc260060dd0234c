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

// bulkWriter gathers actions into NDJSON bodies of at most size actions and maxBytes bytes (an action longer
// than maxBytes alone) and sends each when full, with up to cap(slots) requests in flight; flush waits for all
// of them. Callers flush between actions that must be ordered (an id is written at most once between two
// flushes).
type bulkWriter struct {
	cl       Client
	index    string
	size     int
	maxBytes int
	buf      []byte
	n        int
	slots    chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	err      error
}

func newBulkWriter(t *Target) *bulkWriter {
	return &bulkWriter{cl: t.cl, index: t.index, size: t.bulkSize, maxBytes: t.maxBody, slots: make(chan struct{}, t.parallel)}
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
	mark := len(w.buf)
	if m.deleted {
		w.buf = appendMeta(w.buf, "delete", m.id, m.version(), "external")
	} else {
		w.buf = appendMeta(w.buf, "index", m.id, m.version(), "external")
		w.buf = append(appendMessageDoc(w.buf, m), '\n')
	}
	if len(w.buf) > w.maxBytes && w.n > 0 {
		// The action makes the body too long: send the ones before it, and start the next body with it.
		body, n := w.buf[:mark], w.n
		w.buf, w.n = append(pooledBuf(), w.buf[mark:]...), 0
		if err := w.sendBody(ctx, body, n); err != nil {
			return err
		}
	}
	w.n++
	if w.n >= w.size {
		return w.send(ctx)
	}
	return nil
}

// pooledBuf returns an empty body from bufs.
func pooledBuf() []byte { return (*bufs.Get().(*[]byte))[:0] }

// send starts the request of the gathered actions; it returns the first error of an earlier request, if any.
func (w *bulkWriter) send(ctx context.Context) error {
	if err := w.failed(); err != nil {
		return err
	}
	if w.n == 0 {
		return nil
	}
	body, n := w.buf, w.n
	w.buf, w.n = pooledBuf(), 0
	return w.sendBody(ctx, body, n)
}

// sendBody starts the request of body (n actions), which the request owns from then on.
func (w *bulkWriter) sendBody(ctx context.Context, body []byte, n int) error {
	if err := w.failed(); err != nil {
		return err
	}
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

// mget reads ids from index, with one request per chunk of at most maxBody bytes (see idChunks), and calls fn
// for every document found, with the document's entry of the answer (_version, _seq_no, _primary_term) and its
// source; fn must not keep doc or src after returning.
func mget(ctx context.Context, cl Client, index string, maxBody int, ids []string, fn func(id string, doc, src *fastjson.Value) error) error {
	for _, chunk := range idChunks(ids, maxBody, len(`{"ids":[]}`)) {
		body := make([]byte, 0, 16+len(chunk)*40)
		body = appendJSONStrings(append(body, `{"ids":`...), chunk)
		raw, err := cl.Mget(ctx, index, append(body, '}'))
		if err != nil {
			return fmt.Errorf("mget %d documents from %s: %w", len(chunk), index, err)
		}
		if err := mgetDocs(index, raw, fn); err != nil {
			return err
		}
	}
	return nil
}

// mgetDocs calls fn for every document found in an mget answer.
func mgetDocs(index string, raw []byte, fn func(id string, doc, src *fastjson.Value) error) error {
	p := parsers.Get()
	defer parsers.Put(p)
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

// maxIDsPerRequest bounds the ids of one mget or ids query, whose answer holds one document per id (a search
// answers at most index.max_result_window, 10,000 by default, hits).
const maxIDsPerRequest = 10_000

// idChunks splits ids into runs of at most maxIDsPerRequest whose JSON array, with overhead bytes around it,
// fits in maxBody bytes (an id too long for it alone in a run).
func idChunks(ids []string, maxBody, overhead int) [][]string {
	var chunks [][]string
	var scratch []byte
	start, size := 0, overhead
	for i, id := range ids {
		scratch = schemas.AppendJSONString(scratch[:0], id)
		n := len(scratch) + 1 // and a comma
		if i > start && (size+n > maxBody || i-start == maxIDsPerRequest) {
			chunks = append(chunks, ids[start:i])
			start, size = i, overhead
		}
		size += n
	}
	if start < len(ids) {
		chunks = append(chunks, ids[start:])
	}
	return chunks
}
