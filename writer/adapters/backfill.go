package adapters

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/cqrses-aws/pipeline/internal/eventstore"
	"github.com/cqrses-aws/pipeline/writer/domain"
)

// BackfillStore is what a backfill of message entities needs of the journal: a scan of every event, and entity
// writes outside any append (eventstore.DynamoDB has both).
type BackfillStore interface {
	// ScanJournal calls fn with every event, in no order, from segments goroutines at once.
	ScanJournal(ctx context.Context, segments int, fn func(eventstore.Record) error) error
	// WriteEntity applies one entity write; ErrUnavailable (wrapped) when the store cannot be reached.
	WriteEntity(ctx context.Context, e eventstore.EntityWrite) error
}

// BackfillCounts says what a backfill wrote: one entity write per message posted and per message deleted.
type BackfillCounts struct {
	Posted, Deleted int64
}

// BackfillMessages writes the entity of every message of the journal's rooms from their MessagePosted and
// MessageDeleted events (room and author, deletion): for a journal written before message ids carried the seq
// of their post, whose messages an edit or a delete would otherwise not find. The writes merge attributes (no create condition), so the scan's order does
// not matter, a message whose entity exists already is written the same again, and the backfill may run any
// number of times, also while writers run: run it once the last writer of the older version has stopped (or
// once before and again after). It returns the counts and the first error.
func BackfillMessages(ctx context.Context, store BackfillStore, segments int) (BackfillCounts, error) {
	var posted, deleted atomic.Int64
	err := store.ScanJournal(ctx, segments, func(rec eventstore.Record) error {
		if rec.AggregateType != domain.AggregateTypeRoom ||
			rec.Type != domain.TypeMessagePosted && rec.Type != domain.TypeMessageDeleted {
			return nil
		}
		ev, err := decodeRecord(rec)
		if err != nil {
			return fmt.Errorf("backfill messages of %s: %w", rec.AggregateID, err)
		}
		w := eventstore.EntityWrite{Set: map[string]string{attrMessageRoom: rec.AggregateID}}
		switch e := ev.(type) {
		case domain.MessagePosted:
			w.Key, w.Set[attrMessageAuthor] = string(e.MessageID), string(e.AuthorID)
			posted.Add(1)
		case domain.MessageDeleted:
			w.Key, w.Set[attrMessageDeleted] = string(e.MessageID), "true"
			deleted.Add(1)
		}
		if err := store.WriteEntity(ctx, w); err != nil {
			return fmt.Errorf("backfill message %s of %s: %w", w.Key, rec.AggregateID, err)
		}
		return nil
	})
	return BackfillCounts{Posted: posted.Load(), Deleted: deleted.Load()}, err
}
