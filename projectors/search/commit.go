package search

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// commit writes the batch in an order that keeps every reader and every crash safe:
//
//  1. the new names of renamed accounts, in their state documents but with the stored states (so a state does
//     not run ahead); room processes that post concurrently see them, see verify;
//  2. the rewrites of stored messages the batch's renames and room deletes affect (refresh, then search);
//  3. the batch's own messages, with the final names;
//  4. verify: the senders' names read again, and the messages written with a name that changed meanwhile
//     rewritten;
//  5. the saved states, in the state documents of the batch's aggregates.
func (x *tx) commit(ctx context.Context) error {
	// Aggregates saved without being applied keep their stored names.
	missing := make([]string, 0, len(x.saved))
	for id := range x.saved {
		if _, ok := x.aggs[id]; !ok {
			missing = append(missing, id)
		}
	}
	if err := x.load(ctx, missing, nil); err != nil {
		return err
	}

	if len(x.renamedAccounts) > 0 {
		names := make(map[string]entry, len(x.renamedAccounts))
		for id := range x.renamedAccounts {
			a := x.aggs[id]
			names[id] = a.entry(a.state)
		}
		if err := x.writeStates(ctx, names); err != nil {
			return fmt.Errorf("write new account names: %w", err)
		}
		version, err := bumpRenames(ctx, x.t.cl, x.t.index)
		if err != nil {
			return err
		}
		x.ownBump(version)
	}

	w := newBulkWriter(x.t)
	written, err := x.rewrite(ctx, w)
	if err != nil {
		return err
	}
	for _, m := range x.order {
		room := x.aggs[m.roomID]
		m.roomSeq = room.batchSeq
		if !m.deleted {
			m.roomName = x.ahead.roomName(room)
			if acct, ok := x.aggs[m.senderID]; ok {
				if name, seq := x.ahead.senderName(acct.id, acct.name, acct.nameSeq); seq >= m.senderSeq {
					m.senderName, m.senderSeq = name, seq
				}
			}
			written = append(written, m)
		}
		if err := w.message(ctx, m); err != nil {
			return err
		}
	}
	if err := w.flush(ctx); err != nil {
		return err
	}

	if err := x.verify(ctx, w, written); err != nil {
		return err
	}

	if len(x.saved) == 0 {
		return nil
	}
	states := make(map[string]entry, len(x.saved))
	for id, st := range x.saved {
		states[id] = x.aggs[id].entry(st)
	}
	if err := x.writeStates(ctx, states); err != nil {
		return fmt.Errorf("write states: %w", err)
	}
	return nil
}

// verify closes the race between this batch's messages and a rename of their sender applied concurrently by
// another process (account and room events live on different partitions). That process writes the new name
// (step 1) and then moves the renames marker before it refreshes and searches the sender's messages; this one
// writes its messages before it reads the marker and the names here. So either its search saw these messages,
// or this read sees the new name and rewrites them; the versions make both rewrites converge. When the marker
// has not moved since the batch read the names, no rename was written meanwhile and the names need no second
// read, which spares a read of every sender's state document in nearly every batch; the batch's own move of the
// marker, right after the version it read, does not count (see ownBump), which spares it in the batches that
// rename accounts themselves, as most of a replay's do.
func (x *tx) verify(ctx context.Context, w *bulkWriter, written []*message) error {
	senders := map[string]struct{}{}
	for _, m := range written {
		if _, own := x.renamedAccounts[m.senderID]; !own {
			senders[m.senderID] = struct{}{}
		}
	}
	if len(senders) == 0 {
		return nil
	}
	if moved, err := x.renamesMoved(ctx); err != nil || !moved {
		return err
	}
	fresh, err := readEntries(ctx, x.t.cl, x.t.index, x.t.maxBody, sortedKeys(senders))
	if err != nil {
		return fmt.Errorf("verify senders: %w", err)
	}
	for _, m := range written {
		e, ok := fresh[m.senderID]
		if !ok {
			continue
		}
		if name, seq := x.ahead.senderName(m.senderID, e.name, e.nameSeq); seq > m.senderSeq {
			m.senderName, m.senderSeq = name, seq
			if err := w.message(ctx, m); err != nil {
				return err
			}
		}
	}
	return w.flush(ctx)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
