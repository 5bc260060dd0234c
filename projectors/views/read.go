package views

import (
	"context"
	"hash/fnv"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
)

// nameLockBuckets is the number of rows of the name_locks table (see the migration).
const nameLockBuckets = 256

// stored is what the writes of a batch depend on, read in the batch's first round trip.
type stored struct {
	names   map[string]string  // current name of the accounts whose names new rows copy
	members map[memberKey]bool // which members the batch changes exist
}

// readStored locks the name buckets of the accounts the batch names or renames, writes the batch's accounts,
// and reads the names and members the other writes depend on, in one round trip.
func (t *Tx) readStored(ctx context.Context, c *changes) (*stored, error) {
	sql := &t.target.sql
	st := &stored{names: map[string]string{}, members: map[memberKey]bool{}}
	refs, memberRooms, memberAccounts := c.dependencies()
	renamed := slices.Sorted(maps.Keys(c.accounts))

	b := &pgx.Batch{}
	// One statement takes every bucket lock, in bucket order, so that two batches cannot deadlock on them; a
	// batch that renames takes them all FOR UPDATE.
	if len(renamed) > 0 {
		b.Queue(sql.updateNameLocks, buckets(refs, renamed))
		names, versions := make([]string, len(renamed)), make([]int64, len(renamed))
		for i, id := range renamed {
			names[i], versions[i] = c.accounts[id].name, c.accounts[id].version
		}
		b.Queue(sql.upsertAccounts, renamed, names, versions)
	} else if len(refs) > 0 {
		b.Queue(sql.shareNameLocks, buckets(refs, nil))
	}
	if len(refs) > 0 {
		b.Queue(sql.selectNames, refs).Query(func(rows pgx.Rows) error {
			var id, name string
			_, err := pgx.ForEachRow(rows, []any{&id, &name}, func() error { st.names[id] = name; return nil })
			return err
		})
	}
	if len(memberRooms) > 0 {
		b.Queue(sql.selectMembers, memberRooms, memberAccounts).Query(func(rows pgx.Rows) error {
			var k memberKey
			_, err := pgx.ForEachRow(rows, []any{&k.room, &k.account}, func() error { st.members[k] = true; return nil })
			return err
		})
	}
	if b.Len() == 0 {
		return st, nil
	}
	return st, t.tx.SendBatch(ctx, b).Close()
}

// dependencies returns, sorted, the accounts whose names new rows copy, and the members the batch changes (as
// two parallel lists).
func (c *changes) dependencies() (refs, memberRooms, memberAccounts []string) {
	refSet := map[string]struct{}{}
	for k, m := range c.members {
		if c.rooms[k.room].deleted {
			continue
		}
		if !m.removed {
			refSet[k.account] = struct{}{}
		}
		memberRooms, memberAccounts = append(memberRooms, k.room), append(memberAccounts, k.account)
	}
	for _, m := range c.messages {
		if m.ins != nil && !c.rooms[m.room].deleted {
			refSet[m.ins.sender] = struct{}{}
		}
	}
	return slices.Sorted(maps.Keys(refSet)), memberRooms, memberAccounts
}

// buckets returns the sorted name_locks buckets of the accounts in both lists.
func buckets(a, b []string) []int32 {
	set := map[int32]struct{}{}
	for _, id := range slices.Concat(a, b) {
		set[bucket(id)] = struct{}{}
	}
	return slices.Sorted(maps.Keys(set))
}

func bucket(accountID string) int32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(accountID))
	return int32(h.Sum32() % nameLockBuckets)
}
