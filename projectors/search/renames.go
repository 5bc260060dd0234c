package search

import (
	"context"
	"fmt"

	"github.com/valyala/fastjson"
)

// renamesID is the id of the renames marker: a document rewritten after every commit of new account names,
// whose version therefore tells a batch whether a rename was written since it read the names (see verify).
const renamesID = "renames"

// bumpRenames rewrites the renames marker, moving its version on.
func bumpRenames(ctx context.Context, cl Client, index string) error {
	raw, err := cl.Bulk(ctx, index, []byte(`{"index":{"_id":"`+renamesID+`"}}`+"\n"+`{"kind":"renames"}`+"\n"))
	if err == nil {
		err = checkBulk(raw)
	}
	if err != nil {
		return fmt.Errorf("move the renames marker: %w", err)
	}
	return nil
}

// readRenames returns the version of the renames marker, 0 when it was never written.
func readRenames(ctx context.Context, cl Client, index string) (int64, error) {
	version := int64(0)
	err := mget(ctx, cl, index, []string{renamesID}, func(_ string, doc, _ *fastjson.Value) error {
		version = doc.GetInt64("_version")
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("read the renames marker: %w", err)
	}
	return version, nil
}

// renamesMoved reports whether the renames marker moved since the tx first read the state buckets.
func (x *tx) renamesMoved(ctx context.Context) (bool, error) {
	if x.renames < 0 {
		return true, nil
	}
	version, err := readRenames(ctx, x.t.cl, x.t.index)
	return version != x.renames, err
}
