package eventstore

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// DynamoDB's limits, which both implementations enforce so that the memory store refuses what DynamoDB would.
const (
	// MaxTransactionItems is the most items one TransactWriteItems may hold.
	MaxTransactionItems = 100
	// MaxTransactionBytes is the most bytes of items one TransactWriteItems may hold (4 MB).
	MaxTransactionBytes = 4 << 20
	// MaxItemBytes is the largest item DynamoDB stores (400 KB, attribute names included).
	MaxItemBytes = 400 << 10
	// MaxAggregateIDBytes bounds an aggregate id so that it fits a partition key and an S3 object key.
	MaxAggregateIDBytes = 512
	// MaxIdempotencyKeyBytes bounds an idempotency key so that it fits a partition key.
	MaxIdempotencyKeyBytes = 1024
)

// checkAppend validates req (ErrInvalidAppend) and then checks it against DynamoDB's transaction and item
// limits (ErrTooLarge), counting a snapshot of more than inlineMax bytes as an S3 pointer.
func checkAppend(req AppendRequest, inlineMax int) error {
	if err := validateAppend(req); err != nil {
		return err
	}
	return checkLimits(req, inlineMax)
}

func validateAppend(req AppendRequest) error {
	aid := req.AggregateID
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("append to %q: %s: %w", aid, fmt.Sprintf(format, args...), ErrInvalidAppend)
	}
	switch {
	case aid == "":
		return invalid("aggregate id is empty")
	case len(aid) > MaxAggregateIDBytes:
		return invalid("aggregate id is longer than %d bytes", MaxAggregateIDBytes)
	case !utf8.ValidString(aid):
		return invalid("aggregate id is not valid UTF-8")
	case req.ExpectedSeq < 0:
		return invalid("expected seq %d is negative", req.ExpectedSeq)
	case len(req.Events) == 0:
		return invalid("no events")
	}
	for i := range req.Events {
		ev := &req.Events[i]
		want := req.ExpectedSeq + int64(i) + 1
		switch {
		case ev.AggregateID != aid:
			return invalid("event %d belongs to aggregate %q", i, ev.AggregateID)
		case ev.Seq != want:
			return invalid("event %d has seq %d, want %d", i, ev.Seq, want)
		case ev.AggregateType == "" || ev.Type == "" || ev.EventID == "":
			return invalid("event seq %d lacks its aggregate type, type or event id", ev.Seq)
		case ev.Version < 1:
			return invalid("event seq %d has schema version %d, want 1 or more", ev.Seq, ev.Version)
		case !validStrings(ev.AggregateType, ev.Type, ev.EventID, ev.CorrelationID, ev.CausationID, ev.CommandID,
			ev.TraceParent):
			return invalid("event seq %d has a field that is not valid UTF-8", ev.Seq)
		case !utf8.Valid(ev.Payload) || !json.Valid(ev.Payload):
			return invalid("event seq %d payload is not valid JSON", ev.Seq)
		}
	}
	if s := req.Snapshot; s != nil {
		last := req.Events[len(req.Events)-1].Seq
		switch {
		case s.AggregateID != aid:
			return invalid("snapshot belongs to aggregate %q", s.AggregateID)
		case s.Seq != last:
			return invalid("snapshot seq %d is not the last event's seq %d", s.Seq, last)
		case len(s.State) == 0:
			return invalid("snapshot state is empty")
		}
	}
	if r := req.Idempotency; r != nil {
		switch {
		case r.Key == "":
			return invalid("idempotency key is empty")
		case len(r.Key) > MaxIdempotencyKeyBytes:
			return invalid("idempotency key is longer than %d bytes", MaxIdempotencyKeyBytes)
		case !validStrings(r.Key, r.RequestHash):
			return invalid("idempotency key or request hash is not valid UTF-8")
		case r.ExpiresAt.IsZero():
			return invalid("idempotency record has no expiry")
		}
	}
	return nil
}

func validStrings(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// checkLimits refuses, rather than splits, an append that one DynamoDB transaction cannot hold: splitting would
// break its atomicity.
func checkLimits(req AppendRequest, inlineMax int) error {
	items := transactionItems(req)
	if items > MaxTransactionItems {
		return fmt.Errorf("append to %s: %d transaction items exceed the limit of %d items per transaction: %w",
			req.AggregateID, items, MaxTransactionItems, ErrTooLarge)
	}
	total := 0
	for i := range req.Events {
		size := recordItemSize(&req.Events[i])
		if size > MaxItemBytes {
			return fmt.Errorf("append to %s: event seq %d is %d bytes, over the item limit of %d bytes (400 KB): %w",
				req.AggregateID, req.Events[i].Seq, size, MaxItemBytes, ErrTooLarge)
		}
		total += size
	}
	if s := req.Snapshot; s != nil {
		total += snapshotItemSize(s.AggregateID, s.Seq, len(s.State), inlineMax)
	}
	if r := req.Idempotency; r != nil {
		size := idempotencyItemSize(r)
		if size > MaxItemBytes {
			return fmt.Errorf("append to %s: idempotency record is %d bytes, over the item limit of %d bytes (400 KB): %w",
				req.AggregateID, size, MaxItemBytes, ErrTooLarge)
		}
		total += size
	}
	if total > MaxTransactionBytes {
		return fmt.Errorf("append to %s: %d bytes of items exceed the limit of %d bytes (4 MB) per transaction: %w",
			req.AggregateID, total, MaxTransactionBytes, ErrTooLarge)
	}
	return nil
}

// transactionItems counts the items of req's transaction: the events, the check that event ExpectedSeq exists
// (when ExpectedSeq > 0), the snapshot pointer and the idempotency record.
func transactionItems(req AppendRequest) int {
	n := len(req.Events)
	if req.ExpectedSeq > 0 {
		n++
	}
	if req.Snapshot != nil {
		n++
	}
	if req.Idempotency != nil {
		n++
	}
	return n
}

// journalNamesBytes is the length of every journal attribute name, which DynamoDB counts in an item's size.
var journalNamesBytes = len(AttrAggregateID + AttrSeq + AttrAggregateType + AttrType + AttrVersion + AttrEventID +
	AttrOccurredAt + AttrCorrelationID + AttrCausationID + AttrCommandID + AttrTraceParent + AttrPayload)

// maxTimestampBytes is the longest occurred_at value: RFC 3339 with nanoseconds in UTC.
const maxTimestampBytes = len("2006-01-02T15:04:05.999999999Z")

// recordItemSize is the size DynamoDB accounts for r's journal item: names plus values, numbers at one byte per
// two digits plus one.
func recordItemSize(r *Record) int {
	return journalNamesBytes + len(r.AggregateID) + numberSize(r.Seq) + len(r.AggregateType) + len(r.Type) +
		numberSize(int64(r.Version)) + len(r.EventID) + maxTimestampBytes + len(r.CorrelationID) +
		len(r.CausationID) + len(r.CommandID) + len(r.TraceParent) + len(r.Payload)
}

// snapshotItemSize is the size of a snapshot pointer item: the state inline when it fits inlineMax, else the S3
// key.
func snapshotItemSize(aggregateID string, seq int64, stateLen, inlineMax int) int {
	size := len(attrSnapAggregateID) + len(aggregateID) + len(attrSnapSeq) + numberSize(seq)
	if stateLen <= inlineMax {
		return size + len(attrSnapState) + stateLen
	}
	return size + len(attrSnapS3Key) + snapshotKeyLen(aggregateID)
}

func idempotencyItemSize(r *IdempotencyRecord) int {
	return len(attrIdemKey) + len(r.Key) + len(attrIdemRequestHash) + len(r.RequestHash) +
		len(attrIdemResponse) + len(r.Response) + len(attrIdemExpiresAt) + numberSize(r.ExpiresAt.Unix())
}

func numberSize(n int64) int {
	return (len(strconv.FormatInt(n, 10))+1)/2 + 1
}
