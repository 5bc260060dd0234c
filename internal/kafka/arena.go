package kafka

import "github.com/twmb/franz-go/pkg/kgo"

// RecordArena is the memory of many event records: EventEncoder.RecordIn carves each record, its headers, its
// value and its header values out of a few blocks the arena keeps, instead of allocating per record, and Reset
// lets the same blocks serve again. The relay keeps one arena per page of the stream and reuses it once Kafka
// acknowledged the page, so that a steady relay allocates next to nothing per event and the garbage collector
// rarely runs.
//
// Reset may be called only once nothing reads the arena's records any more: for a produced record, once its
// promise was called (franz-go reads the record until then). An arena is not safe for concurrent use; the
// zero value is ready to use.
type RecordArena struct {
	records [][]eventRecord
	n       int // records handed out since the last Reset
	blocks  [][]byte
	block   int // index of the block being filled
}

const (
	// arenaRecords is the number of records of one block: a page of the stream holds up to 1,000 events.
	arenaRecords = 256
	// arenaBytes is the size of one block of values; a value larger than a quarter of it gets a block of its own.
	arenaBytes = 64 << 10
)

// Reset makes the arena's memory available for new records; see RecordArena for when that is allowed.
func (a *RecordArena) Reset() {
	a.n, a.block = 0, 0
	for i := range a.blocks {
		a.blocks[i] = a.blocks[i][:0]
	}
}

// Len returns how many records the arena holds since the last Reset.
func (a *RecordArena) Len() int { return a.n }

// record returns the next unused record slot; its previous content, if any, is to be overwritten whole.
func (a *RecordArena) record() *eventRecord {
	i, j := a.n/arenaRecords, a.n%arenaRecords
	if i == len(a.records) {
		a.records = append(a.records, make([]eventRecord, arenaRecords))
	}
	a.n++
	return &a.records[i][j]
}

// buffer returns an empty slice with room for at least n bytes, to append one record's bytes to before
// calling used with the result.
func (a *RecordArena) buffer(n int) []byte {
	if n > arenaBytes/4 {
		return make([]byte, 0, n)
	}
	for ; a.block < len(a.blocks); a.block++ {
		if b := a.blocks[a.block]; cap(b)-len(b) >= n {
			return b[len(b):len(b):cap(b)]
		}
	}
	a.blocks = append(a.blocks, make([]byte, 0, arenaBytes))
	return a.blocks[a.block][:0:arenaBytes]
}

// used records that buf, a slice buffer returned, was filled: its bytes are taken. A buf that outgrew its
// room was moved by append and takes nothing from the block.
func (a *RecordArena) used(buf []byte) {
	if a.block >= len(a.blocks) || len(buf) == 0 {
		return
	}
	b := a.blocks[a.block]
	if len(b) < cap(b) && len(b)+len(buf) <= cap(b) && &b[:cap(b)][len(b)] == &buf[0] {
		a.blocks[a.block] = b[:len(b)+len(buf)]
	}
}

// eventRecord is a record and its headers in one allocation.
type eventRecord struct {
	rec     kgo.Record
	headers [9]kgo.RecordHeader
}
