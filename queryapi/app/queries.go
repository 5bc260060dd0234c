package app

import (
	"context"
	"fmt"
	"slices"
)

// Rooms returns a page of the caller's rooms after the room id after, and the id to continue after ("" at the
// end).
func (q *Queries) Rooms(ctx context.Context, o Options, after string, limit int) ([]RoomSummary, string, Fresh, error) {
	fresh := q.await(ctx, o.ConsistentWith, ModelViews)
	rooms, err := q.cfg.Views.Rooms(ctx, o.Caller, after, limit+1)
	if err != nil {
		return nil, "", fresh, fmt.Errorf("rooms of %s: %w", o.Caller, err)
	}
	if len(rooms) > limit {
		return rooms[:limit], rooms[limit-1].ID, fresh, nil
	}
	return rooms, "", fresh, nil
}

// Room returns a room the caller is a member of; ErrNotFound otherwise.
func (q *Queries) Room(ctx context.Context, o Options, roomID string) (Room, Fresh, error) {
	fresh := q.await(ctx, o.ConsistentWith, ModelViews)
	room, err := q.cfg.Views.Room(ctx, o.Caller, roomID)
	if err != nil {
		return Room{}, fresh, fmt.Errorf("room %s for %s: %w", roomID, o.Caller, err)
	}
	return room, fresh, nil
}

// Messages returns a page of a room's messages, newest first; ErrNotFound unless the caller is a member.
func (q *Queries) Messages(ctx context.Context, o Options, roomID string, after *MessageKey, limit int) (Page[Message], Fresh, error) {
	fresh := q.await(ctx, o.ConsistentWith, ModelViews)
	// One more than asked tells whether a next page exists.
	msgs, err := q.cfg.Views.Messages(ctx, o.Caller, roomID, after, limit+1)
	if err != nil {
		return Page[Message]{}, fresh, fmt.Errorf("messages of room %s for %s: %w", roomID, o.Caller, err)
	}
	return pageOf(msgs, limit, func(m Message) MessageKey { return MessageKey{PostedAt: m.PostedAt, ID: m.ID} }), fresh, nil
}

// Account returns an account's public view; any authenticated caller may read it.
func (q *Queries) Account(ctx context.Context, o Options, id string) (Account, Fresh, error) {
	fresh := q.await(ctx, o.ConsistentWith, ModelViews)
	acct, err := q.cfg.Views.Account(ctx, id)
	if err != nil {
		return Account{}, fresh, fmt.Errorf("account %s: %w", id, err)
	}
	return acct, fresh, nil
}

// Search finds messages by text in the rooms the caller is a member of, or in room only (a room the caller is not
// a member of finds nothing), newest first. Membership comes from the views, so a query consistent with a write
// waits for both read models.
//
// The views are the one authority on who sees what: the index may have applied a room further than the views (a
// removal and the messages or edits after it, a rename, while the views lag), so a hit is shown only when the
// views hold that message in that room with the very same text, and with the room's name as the views show it.
// Hidden hits do not shorten a page while visible ones follow: Search reads on, in at most maxSearchRounds reads
// of the index, and a page comes out short only when those run out; its cursor then continues after the last hit
// read, so paging goes on from there.
func (q *Queries) Search(ctx context.Context, o Options, text, room string, after *MessageKey, limit int) (Page[Hit], Fresh, error) {
	fresh := q.await(ctx, o.ConsistentWith, ModelViews, ModelSearch)
	rooms, err := q.cfg.Views.MemberRooms(ctx, o.Caller)
	if err != nil {
		return Page[Hit]{}, fresh, fmt.Errorf("rooms of %s: %w", o.Caller, err)
	}
	if room != "" {
		if !slices.Contains(rooms, room) {
			return Page[Hit]{}, fresh, nil
		}
		rooms = []string{room}
	}
	if len(rooms) == 0 {
		return Page[Hit]{}, fresh, nil
	}
	page, err := q.visibleHits(ctx, SearchQuery{Text: text, Rooms: rooms, After: after, Limit: limit})
	if err != nil {
		return Page[Hit]{}, fresh, fmt.Errorf("search for %s: %w", o.Caller, err)
	}
	return page, fresh, nil
}

// Bounds of the reads of one search page.
const (
	// maxSearchRounds is how often one page reads the index, when hidden hits left it short.
	maxSearchRounds = 4
	// maxSearchBatch is the most hits one read asks for; each round asks for twice the last, from limit+1.
	maxSearchBatch = 1000
)

// visibleHits reads the page of hits of sq (sq.Limit is the page size) that the views vouch for. It walks the
// index's hits in order from sq.After: a visible hit joins the page, a hidden one is passed over; once the page is
// full, any further hit means a next page, which starts after the page's last item (so the hidden hits read past
// it are looked at again by the next page, when the views may have caught up). When the rounds run out first, the
// page is short and continues after the last hit read, so no hit is skipped or repeated and paging always moves
// on.
func (q *Queries) visibleHits(ctx context.Context, sq SearchQuery) (Page[Hit], error) {
	limit := sq.Limit
	var items []Hit
	pos := sq.After
	batch := limit + 1
	for round := 0; round < maxSearchRounds; round++ {
		hits, err := q.cfg.Search.Search(ctx, SearchQuery{Text: sq.Text, Rooms: sq.Rooms, After: pos, Limit: batch})
		if err != nil {
			return Page[Hit]{}, err
		}
		vouched, err := q.vouched(ctx, hits)
		if err != nil {
			return Page[Hit]{}, err
		}
		for _, h := range hits {
			if len(items) == limit {
				// h follows a full page: there is a next one.
				return Page[Hit]{Items: items, Next: hitKey(items[limit-1])}, nil
			}
			if v, ok := vouched[h.MessageID]; ok && v.RoomID == h.RoomID && v.Text == h.Text {
				h.RoomName = v.RoomName
				items = append(items, h)
			}
			pos = hitKey(h)
		}
		if len(hits) < batch {
			// The index has no more: this is the last page.
			return Page[Hit]{Items: items}, nil
		}
		batch = min(2*batch, maxSearchBatch)
	}
	// The rounds ran out with more hits to read: continue after the last one read.
	return Page[Hit]{Items: items, Next: pos}, nil
}

// vouched reads, in one query, the messages of hits as the views hold them.
func (q *Queries) vouched(ctx context.Context, hits []Hit) (map[string]Vouched, error) {
	if len(hits) == 0 {
		return nil, nil
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.MessageID
	}
	vouched, err := q.cfg.Views.Vouch(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("the views' copy of %d hits: %w", len(ids), err)
	}
	return vouched, nil
}

func hitKey(h Hit) *MessageKey { return &MessageKey{PostedAt: h.PostedAt, ID: h.MessageID} }

// pageOf makes the page of items, read with one more than limit: when that one came, the page stops at limit and
// continues after the key of its last item.
func pageOf[T any](items []T, limit int, key func(T) MessageKey) Page[T] {
	if len(items) <= limit {
		return Page[T]{Items: items}
	}
	next := key(items[limit-1])
	return Page[T]{Items: items[:limit], Next: &next}
}
