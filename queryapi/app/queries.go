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
	hits, err := q.cfg.Search.Search(ctx, SearchQuery{Text: text, Rooms: rooms, After: after, Limit: limit + 1})
	if err != nil {
		return Page[Hit]{}, fresh, fmt.Errorf("search for %s: %w", o.Caller, err)
	}
	return pageOf(hits, limit, func(h Hit) MessageKey { return MessageKey{PostedAt: h.PostedAt, ID: h.MessageID} }), fresh, nil
}

// pageOf makes the page of items, read with one more than limit: when that one came, the page stops at limit and
// continues after the key of its last item.
func pageOf[T any](items []T, limit int, key func(T) MessageKey) Page[T] {
	if len(items) <= limit {
		return Page[T]{Items: items}
	}
	next := key(items[limit-1])
	return Page[T]{Items: items[:limit], Next: &next}
}
