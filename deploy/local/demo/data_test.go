package main

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/cqrses-aws/pipeline/writer/domain"
)

// checkString applies the domain's length and character rules, stated again here so a change of either shows.
func checkString(t *testing.T, what, s string, maxRunes int, allowed string) {
	t.Helper()
	n := utf8.RuneCountInString(s)
	if !utf8.ValidString(s) || n < 1 || n > maxRunes || strings.TrimSpace(s) == "" {
		t.Errorf("%s %q: %d characters, want 1 to %d of valid UTF-8, not blank", what, s, n, maxRunes)
	}
	for _, r := range s {
		if unicode.IsControl(r) && !strings.ContainsRune(allowed, r) {
			t.Errorf("%s %q holds control character %U", what, s, r)
		}
	}
}

// given returns first and the optional ones that are set: the strings the loader sends.
func given(first string, optional ...string) []string {
	return append([]string{first}, slices.DeleteFunc(optional, func(s string) bool { return s == "" })...)
}

func isJapanese(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

func TestGeneratedNamesAndTextsAreValid(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 42} {
		p := Generate(seed, 2000)
		for _, a := range p.Accounts {
			for _, name := range given(a.Name, a.Rename) {
				checkString(t, "account name", name, 80, "")
				if err := domain.ValidateName(name); err != nil {
					t.Errorf("account name %q: %v", name, err)
				}
			}
		}
		for _, r := range p.Rooms {
			for _, name := range given(r.Name, r.Rename) {
				checkString(t, "room name", name, 80, "")
				if err := domain.ValidateName(name); err != nil {
					t.Errorf("room name %q: %v", name, err)
				}
			}
		}
		for _, m := range p.Messages {
			for _, text := range given(m.Text, m.Edit) {
				checkString(t, "text", text, 10_000, "\n\t")
				if err := domain.ValidateText(text); err != nil {
					t.Errorf("text %q: %v", text, err)
				}
				if strings.ContainsAny(text, "{}") {
					t.Errorf("text %q holds an unfilled slot", text)
				}
			}
		}
	}
}

func TestGeneratedDataIsRealistic(t *testing.T) {
	t.Parallel()
	p := Generate(1, 3000)
	if len(p.Messages) != 3000 || len(p.Accounts) < 10 || len(p.Rooms) < 6 {
		t.Fatalf("%d messages, %d accounts, %d rooms; want 3000 and about a dozen and eight", len(p.Messages), len(p.Accounts), len(p.Rooms))
	}
	if p.Accounts[0].ID != DemoAccount {
		t.Errorf("first account %q, want %q", p.Accounts[0].ID, DemoAccount)
	}
	ids := map[string]bool{}
	japaneseNames := 0
	for _, a := range p.Accounts {
		if ids[a.ID] {
			t.Errorf("account id %q twice", a.ID)
		}
		ids[a.ID] = true
		if strings.IndexFunc(a.Name, isJapanese) >= 0 {
			japaneseNames++
		}
	}
	if japaneseNames == 0 || japaneseNames == len(p.Accounts) {
		t.Errorf("%d of %d account names are Japanese; want both languages", japaneseNames, len(p.Accounts))
	}

	demoIn := 0
	for _, r := range p.Rooms {
		people := peopleOf(r)
		if slices.Contains(people, DemoAccount) {
			demoIn++
		}
		for _, id := range people {
			if !ids[id] {
				t.Errorf("room %q: unknown account %q", r.Name, id)
			}
		}
		if len(people) != len(slices.Compact(slices.Sorted(slices.Values(people)))) {
			t.Errorf("room %q lists a member twice", r.Name)
		}
	}
	if demoIn == 0 || demoIn == len(p.Rooms) || demoIn < len(p.Rooms)/2 {
		t.Errorf("demo is in %d of %d rooms; want most but not all", demoIn, len(p.Rooms))
	}

	var japanese, edits, deletes int
	perRoom := make([]int, len(p.Rooms))
	for _, m := range p.Messages {
		r := p.Rooms[m.Room]
		perRoom[m.Room]++
		if !slices.Contains(peopleOf(r), m.Author) {
			t.Errorf("%s posts in %q without being a member", m.Author, r.Name)
		}
		if strings.IndexFunc(m.Text, isJapanese) >= 0 {
			japanese++
		}
		if m.Edit != "" {
			edits++
		}
		if m.DeletedBy != "" {
			deletes++
			if m.DeletedBy != m.Author && !isAdmin(r, m.DeletedBy) {
				t.Errorf("%s deletes %s's message in %q but is neither its author nor an admin", m.DeletedBy, m.Author, r.Name)
			}
		}
	}
	if japanese < len(p.Messages)/4 || japanese > len(p.Messages)*3/4 {
		t.Errorf("%d of %d messages are Japanese; want a good share of both languages", japanese, len(p.Messages))
	}
	if edits == 0 || deletes == 0 {
		t.Errorf("%d edits and %d deletes; want some of each", edits, deletes)
	}
	for i, n := range perRoom {
		if n == 0 {
			t.Errorf("room %q has no messages", p.Rooms[i].Name)
		}
	}
	all := make([]string, 0, len(p.Messages))
	for _, m := range p.Messages {
		all = append(all, strings.ToLower(m.Text))
	}
	text := strings.Join(all, "\n")
	for _, word := range []string{"deploy", "incident", "release", "会議", "リリース", "デプロイ", "障害"} {
		if n := strings.Count(text, word); n < 10 {
			t.Errorf("%q appears %d times; want it searchable (10 or more)", word, n)
		}
	}
}

func isAdmin(r Room, id string) bool {
	return id == r.Creator || slices.Contains(r.Members, Member{AccountID: id, Role: "admin"})
}

func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	if a, b := Generate(7, 500), Generate(7, 500); !reflect.DeepEqual(a, b) {
		t.Error("two plans of seed 7 differ")
	}
	if a, b := Generate(7, 500), Generate(8, 500); reflect.DeepEqual(a.Messages, b.Messages) {
		t.Error("the plans of seeds 7 and 8 are the same")
	}
	if p := Generate(1, 0); len(p.Messages) != 0 || len(p.Rooms) == 0 {
		t.Errorf("Generate(1, 0) = %d messages, %d rooms; want none and the rooms", len(p.Messages), len(p.Rooms))
	}
}
