package search

import (
	"context"
	"fmt"

	"github.com/valyala/fastjson"

	"github.com/cqrses-aws/pipeline/projectors/readmodel"
	"github.com/cqrses-aws/pipeline/schemas"
)

// Dump reads index (or alias) back as a read model, for tests that compare it with the reference fold: every
// message document into Messages, the registered accounts' names into Accounts and the live rooms' names into
// Rooms (Version is the aggregate's stored seq; Members and LastMessageAt are not kept in the search index, so
// they stay empty). It refreshes the index first, so that every committed write is read.
func Dump(ctx context.Context, cl Client, index string) (*readmodel.Model, error) {
	if err := cl.Refresh(ctx, index); err != nil {
		return nil, fmt.Errorf("dump %s: %w", index, err)
	}
	model := readmodel.New()
	err := scan(ctx, cl, index, []byte(`{"term":{"kind":"message"}}`), "message_id",
		func(id string, version int64, src *fastjson.Value) error {
			m, err := decodeMessage(id, src, version)
			if err != nil {
				return err
			}
			model.Messages[m.id] = readmodel.Message{
				ID: m.id, RoomID: m.roomID, RoomName: m.roomName, SenderID: m.senderID, SenderName: m.senderName,
				Text: m.text, PostedAt: m.postedAt, EditedAt: m.editedAt,
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("dump messages of %s: %w", index, err)
	}
	err = scan(ctx, cl, index, []byte(`{"term":{"kind":"state"}}`), "aggregate_id",
		func(_ string, _ int64, src *fastjson.Value) error {
			id, e := string(src.GetStringBytes("aggregate_id")), decodeEntry(src.Get("state"))
			switch {
			case e.typ == schemas.AggregateTypeAccount && e.nameSeq > 0:
				model.Accounts[id] = readmodel.Account{ID: id, Name: e.name, Version: e.seq}
			case e.typ == schemas.AggregateTypeRoom && e.nameSeq > 0 && !e.deleted:
				model.Rooms[id] = readmodel.Room{ID: id, Name: e.name, Version: e.seq}
			}
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("dump states of %s: %w", index, err)
	}
	return model, nil
}
