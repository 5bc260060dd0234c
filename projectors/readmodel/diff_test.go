package readmodel_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cqrses-aws/pipeline/projectors/readmodel"
	"github.com/cqrses-aws/pipeline/schemas"
)

// sample returns a model with one row of each kind.
func sample() *readmodel.Model {
	return model([]readmodel.Account{{ID: alice, Name: "Alice", Version: 2}},
		[]readmodel.Room{{ID: room1, Name: "general", Version: 3, LastMessageAt: at(5), Members: members(
			readmodel.Member{AccountID: alice, Name: "Alice", Role: schemas.RoleAdmin})}},
		[]readmodel.Message{{ID: msg1, RoomID: room1, RoomName: "general", SenderID: alice, SenderName: "Alice",
			Text: "明日の会議は10時からです", PostedAt: at(5), EditedAt: at(6)}})
}

func TestDiff(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(m *readmodel.Model)
		want []string
	}{
		{"equal", func(*readmodel.Model) {}, nil},
		{"times equal to the microsecond", func(m *readmodel.Model) {
			msg := m.Messages[msg1]
			msg.PostedAt = msg.PostedAt.Add(999 * time.Nanosecond).In(time.FixedZone("JST", 9*60*60))
			m.Messages[msg1] = msg
		}, nil},
		{"account name and version", func(m *readmodel.Model) {
			m.Accounts[alice] = readmodel.Account{ID: alice, Name: "Alicia", Version: 3}
		}, []string{
			`account acct-alice: Name = "Alice", other has "Alicia"`,
			`account acct-alice: Version = 2, other has 3`,
		}},
		{"account only in the other", func(m *readmodel.Model) {
			m.Accounts[bob] = readmodel.Account{ID: bob, Name: "Bob", Version: 1}
		}, []string{`account acct-bob: only in the other model`}},
		{"room only in this", func(m *readmodel.Model) { delete(m.Rooms, room1) }, []string{
			"room " + room1 + ": only in this model",
		}},
		{"room fields", func(m *readmodel.Model) {
			r := m.Rooms[room1]
			r.Name, r.Version, r.LastMessageAt = "random", 4, time.Time{}
			m.Rooms[room1] = r
		}, []string{
			"room " + room1 + `: Name = "general", other has "random"`,
			"room " + room1 + ": Version = 3, other has 4",
			"room " + room1 + ": LastMessageAt = 2025-11-20T09:00:05Z, other has zero",
		}},
		{"members", func(m *readmodel.Model) {
			m.Rooms[room1].Members[alice] = readmodel.Member{AccountID: alice, Name: "", Role: schemas.RoleMember}
			m.Rooms[room1].Members[bob] = readmodel.Member{AccountID: bob, Role: schemas.RoleMember}
		}, []string{
			"room " + room1 + ` member acct-alice: Name = "Alice", other has ""`,
			"room " + room1 + ` member acct-alice: Role = "admin", other has "member"`,
			"room " + room1 + " member acct-bob: only in the other model",
		}},
		{"message fields", func(m *readmodel.Model) {
			m.Messages[msg1] = readmodel.Message{ID: msg1, RoomID: room2, RoomName: "dev", SenderID: bob,
				SenderName: "Bob", Text: strings.Repeat("あ", 100), PostedAt: at(7)}
		}, []string{
			"message " + msg1 + `: RoomID = "` + room1 + `", other has "` + room2 + `"`,
			"message " + msg1 + `: RoomName = "general", other has "dev"`,
			"message " + msg1 + `: SenderID = "acct-alice", other has "acct-bob"`,
			"message " + msg1 + `: SenderName = "Alice", other has "Bob"`,
			"message " + msg1 + `: Text = "明日の会議は10時からです", other has "` + strings.Repeat("あ", 60) + `"… (100 characters)`,
			"message " + msg1 + ": PostedAt = 2025-11-20T09:00:05Z, other has 2025-11-20T09:00:07Z",
			"message " + msg1 + ": EditedAt = 2025-11-20T09:00:06Z, other has zero",
		}},
		{"at most 20 lines", func(m *readmodel.Model) {
			for i := range 30 {
				id := fmt.Sprintf("acct-%02d", i)
				m.Accounts[id] = readmodel.Account{ID: id, Name: "x", Version: 1}
			}
		}, append(accountLines(19), "… and 11 more differences")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			other := sample()
			tc.edit(other)
			got := sample().Diff(other)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Diff =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			// Checksum agrees with Diff: equal exactly when Diff finds nothing.
			if same := sample().Checksum() == other.Checksum(); same != (len(got) == 0) {
				t.Errorf("the checksums are equal: %v, but Diff found %d differences", same, len(got))
			}
		})
	}
}

func accountLines(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("account acct-%02d: only in the other model", i))
	}
	return out
}

func TestDiffOfNilAndEmptyModels(t *testing.T) {
	t.Parallel()
	var none *readmodel.Model
	if got := none.Diff(readmodel.New()); len(got) != 0 {
		t.Errorf("nil.Diff(empty) = %v, want none", got)
	}
	if got := readmodel.New().Diff(&readmodel.Model{}); len(got) != 0 {
		t.Errorf("empty.Diff(zero literal) = %v, want none", got)
	}
	if none.Checksum() != readmodel.New().Checksum() {
		t.Error("nil and empty models have different checksums")
	}
	if got := sample().Diff(nil); len(got) != 3 {
		t.Errorf("sample.Diff(nil) = %v, want 3 rows only in this model", got)
	}
}
