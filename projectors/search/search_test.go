package search_test

import (
	"slices"
	"testing"

	"github.com/cqrses-aws/pipeline/projectors/search"
	"github.com/cqrses-aws/pipeline/schemas"
)

// TestTextSearch finds Japanese text by a Japanese word and English text by an English word, case and width
// folded.
func TestTextSearch(t *testing.T) {
	t.Parallel()
	eachClient(t, func(t *testing.T, cl search.Client) {
		f := newFixture(t, cl)
		s := newStream(7)
		room := s.newID("room-")
		ja, en, other := s.newID("msg-"), s.newID("msg-"), s.newID("msg-")
		f.commit(t,
			s.ev(room, &schemas.RoomCreatedV1{Name: "会議室", CreatedBy: "a"}),
			s.ev(room, &schemas.MessagePostedV1{MessageID: ja, AuthorID: "a", Text: "明日の会議は10時からです"}),
			s.ev(room, &schemas.MessagePostedV1{MessageID: en, AuthorID: "a", Text: "The deploy is DONE"}),
			s.ev(room, &schemas.MessagePostedV1{MessageID: other, AuthorID: "a", Text: "ランチに行きましょう"}),
		)
		for query, want := range map[string][]string{
			"会議":     {ja},
			"明日の会議":  {ja},
			"議":      {ja},
			"deploy": {en},
			"ＤＥＰＬＯＹ": {en}, // full-width Latin
			"done":   {en},
			"ランチ":    {other},
			"夕食":     nil,
		} {
			if got := f.find(t, query); !slices.Equal(got, want) {
				t.Errorf("search %q found %v, want %v", query, got, want)
			}
		}
	})
}
