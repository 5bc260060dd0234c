package search

import (
	_ "embed"
	"strconv"
	"strings"
	"time"
)

// indexBody is the settings and mappings of every index the projection creates: a CJK-aware analyzer for the
// text (standard tokenizer, cjk_width, lowercase, cjk_bigram; unigrams too when indexing, so that a one-kanji
// query matches), keywords for ids and names, dates for times. Indices are built with refresh_interval -1 and
// no replicas; Switch sets the live values.
//
//go:embed index.json
var indexBody []byte

// refreshInterval is how often a live index makes its writes searchable.
const refreshInterval = time.Second

// liveSettings is what Switch sets on an index before it goes live.
func liveSettings(replicas int) []byte {
	return []byte(`{"index":{"refresh_interval":"` + refreshInterval.String() + `","number_of_replicas":` +
		strconv.Itoa(replicas) + `}}`)
}

// VisibilityDelay implements projection.Delayed: a committed document becomes searchable at the index's next
// refresh.
func (t *Target) VisibilityDelay() time.Duration { return refreshInterval }

// versionOf parses the version of an index named "<name>_v<N>"; ok is false for any other name.
func versionOf(name, index string) (version int, ok bool) {
	rest, found := strings.CutPrefix(index, name+"_v")
	if !found {
		return 0, false
	}
	v, err := strconv.Atoi(rest)
	if err != nil || v < 1 || strconv.Itoa(v) != rest {
		return 0, false
	}
	return v, true
}
