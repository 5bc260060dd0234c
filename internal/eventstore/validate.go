package eventstore

import (
	"encoding/json"
	"fmt"
	"regexp"
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
	// MaxEntityKeyBytes bounds an entity key so that it fits a partition key.
	MaxEntityKeyBytes = 1024
)

// entityAttrName is what an entity attribute name must match: short, lower case, and never one of DynamoDB's
// expression syntax characters. "key" is taken by the entity's key.
var entityAttrName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

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
	if err := validateEntities(req.Entities); err != nil {
		return invalid("%v", err)
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

// validateEntities returns what is wrong with the first malformed entity write, or nil.
func validateEntities(writes []EntityWrite) error {
	seen := make(map[string]bool, len(writes))
	for i, e := range writes {
		switch {
		case e.Key == "":
			return fmt.Errorf("entity %d has an empty key", i)
		case len(e.Key) > MaxEntityKeyBytes:
			return fmt.Errorf("entity %d key is longer than %d bytes", i, MaxEntityKeyBytes)
		case !utf8.ValidString(e.Key):
			return fmt.Errorf("entity %d key is not valid UTF-8", i)
		case seen[e.Key]:
			return fmt.Errorf("entity %q is written twice", e.Key)
		case len(e.Set) == 0:
			return fmt.Errorf("entity %q sets no attribute", e.Key)
		}
		seen[e.Key] = true
		for name, value := range e.Set {
			switch {
			case name == attrEntityKey || !entityAttrName.MatchString(name):
				return fmt.Errorf("entity %q attribute name %q is not [a-z][a-z0-9_]{0,63} or is %q", e.Key, name, attrEntityKey)
			case !utf8.ValidString(value):
				return fmt.Errorf("entity %q attribute %s is not valid UTF-8", e.Key, name)
			}
		}
	}
	return nil
}

// checkSnapshot validates a snapshot saved outside an append (ErrInvalidAppend).
func checkSnapshot(s Snapshot) error {
	invalid := func(what string) error {
		return fmt.Errorf("save snapshot of %q at seq %d: %s: %w", s.AggregateID, s.Seq, what, ErrInvalidAppend)
	}
	switch {
	case s.AggregateID == "":
		return invalid("aggregate id is empty")
	case len(s.AggregateID) > MaxAggregateIDBytes:
		return invalid(fmt.Sprintf("aggregate id is longer than %d bytes", MaxAggregateIDBytes))
	case !utf8.ValidString(s.AggregateID):
		return invalid("aggregate id is not valid UTF-8")
	case s.Seq < 1:
		return invalid("seq is not positive")
	case len(s.State) == 0:
		return invalid("state is empty")
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
	// add counts an item of size bytes, named by what and args, unless it is over the item limit.
	add := func(size int, what string, args ...any) error {
		if size > MaxItemBytes {
			return fmt.Errorf("append to %s: %s is %d bytes, over the item limit of %d bytes (400 KB): %w",
				req.AggregateID, fmt.Sprintf(what, args...), size, MaxItemBytes, ErrTooLarge)
		}
		total += size
		return nil
	}
	for i := range req.Events {
		if err := add(recordItemSize(&req.Events[i]), "event seq %d", req.Events[i].Seq); err != nil {
			return err
		}
	}
	if s := req.Snapshot; s != nil {
		// Never over the item limit: state over the inline bound, itself under it, is an S3 key.
		total += snapshotItemSize(s.AggregateID, s.Seq, len(s.State), inlineMax)
	}
	for i := range req.Entities {
		if err := add(entityItemSize(&req.Entities[i]), "entity %q", req.Entities[i].Key); err != nil {
			return err
		}
	}
	if r := req.Idempotency; r != nil {
		if err := add(idempotencyItemSize(r), "idempotency record"); err != nil {
			return err
		}
	}
	if total > MaxTransactionBytes {
		return fmt.Errorf("append to %s: %d bytes of items exceed the limit of %d bytes (4 MB) per transaction: %w",
			req.AggregateID, total, MaxTransactionBytes, ErrTooLarge)
	}
	return nil
}

// transactionItems counts the items of req's transaction: the events, the check that event ExpectedSeq exists
// (when ExpectedSeq > 0), the snapshot pointer, the entities and the idempotency record.
func transactionItems(req AppendRequest) int {
	n := len(req.Events) + len(req.Entities)
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

// entityItemSize is the size of what an entity write sets: its key and the attributes named. Attributes it
// keeps count toward the stored item's size too, which only DynamoDB knows.
func entityItemSize(e *EntityWrite) int {
	size := len(attrEntityKey) + len(e.Key)
	for name, value := range e.Set {
		size += len(name) + len(value)
	}
	return size
}

func numberSize(n int64) int {
	return (len(strconv.FormatInt(n, 10))+1)/2 + 1
}
