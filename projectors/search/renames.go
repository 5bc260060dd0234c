package search

import (
	"context"
	"fmt"

	"github.com/valyala/fastjson"
)

// renamesID is the id of the renames marker: a document rewritten after every commit of new account names,
// whose version therefore tells a batch whether a rename was written since it read the names (see verify).
//
// It is the one document every process writes, and it stays because its writes are rare and cheap: one small
// unconditional index per batch that registers or renames accounts (a replay's account batches, a rename now
// and then afterwards), which never conflicts, so processes sharing partitions wait on it for no more than that
// write. In exchange a batch of messages reads this one document twice instead of reading its senders' state
// documents again after writing (verify), which nearly every batch would pay.
const renamesID = "renames"

// bumpRenames rewrites the renames marker, moving its version on, and returns the version it wrote.
func bumpRenames(ctx context.Context, cl Client, index string) (int64, error) {
	raw, err := cl.Bulk(ctx, index, []byte(`{"index":{"_id":"`+renamesID+`"}}`+"\n"+`{"kind":"renames"}`+"\n"))
	if err == nil {
		err = checkBulk(raw)
	}
	if err != nil {
		return 0, fmt.Errorf("move the renames marker: %w", err)
	}
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.ParseBytes(raw)
	if err != nil {
		return 0, fmt.Errorf("decode the renames marker's answer: %w", err)
	}
	return v.GetInt64("items", "0", "index", "_version"), nil
}

// readRenames returns the version of the renames marker, 0 when it was never written.
func readRenames(ctx context.Context, cl Client, index string) (int64, error) {
	version := int64(0)
	err := mget(ctx, cl, index, DefaultMaxRequestBytes, []string{renamesID}, func(_ string, doc, _ *fastjson.Value) error {
		version = doc.GetInt64("_version")
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read the renames marker: %w", err)
	}
	return version, nil
}

// ownBump takes the marker's version the tx's own bump wrote as the one its names are checked against, when
// that bump came right after the version the tx read: then no other process moved the marker in between, and
// the tx's own renames are its own (verify skips their messages). Any other version keeps the first one, so
// that verify reads the names again.
func (x *tx) ownBump(version int64) {
	if x.renames >= 0 && version == x.renames+1 {
		x.renames = version
	}
}

// renamesMoved reports whether the renames marker moved since the tx first read state documents (or since its
// own bump, see ownBump).
func (x *tx) renamesMoved(ctx context.Context) (bool, error) {
	if x.renames < 0 {
		return true, nil
	}
	version, err := readRenames(ctx, x.t.cl, x.t.index)
	return version != x.renames, err
}
