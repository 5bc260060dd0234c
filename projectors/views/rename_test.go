package views_test

import (
	"testing"

	"github.com/cqrses-aws/pipeline/projectors/projection"
	"github.com/cqrses-aws/pipeline/schemas"
)

// TestNamesFollowTheAccountInEitherOrder delivers an account's events before or after the room events that
// name it, in separate batches or one, and checks members and messages carry its latest name.
func TestNamesFollowTheAccountInEitherOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		accountsFirst bool
		oneBatch      bool
	}{
		{"account first, batch per event", true, false},
		{"account last, batch per event", false, false},
		{"account first, one batch", true, true},
		{"account last, one batch", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pool := newPool(t)
			p := newProjection(t, pool)
			target := open(t, p, 1)
			j := newJournal(t)
			accounts := []projection.Event{j.register("acc-a", "Alice"), j.renameAccount("acc-a", "Alicia")}
			rooms := []projection.Event{
				j.createRoom("room-1", "general", "acc-a"),
				j.addMember("room-1", "acc-b", schemas.RoleMember),
				j.post("room-1", "msg-1", "acc-a", "hi"),
				j.post("room-1", "msg-2", "acc-b", "hello"),
			}
			events := append(append([]projection.Event{}, accounts...), rooms...)
			if !tc.accountsFirst {
				events = append(append([]projection.Event{}, rooms...), accounts...)
			}
			if tc.oneBatch {
				applyBatch(t, target, events)
			} else {
				applyInBatches(t, target, events, 1)
			}

			want := j.model()
			if got := want.Messages["msg-1"].SenderName; got != "Alicia" {
				t.Fatalf("reference sender name = %q, want Alicia", got)
			}
			if got := want.Messages["msg-2"].SenderName; got != "" {
				t.Fatalf("reference sender name of an unregistered account = %q, want empty", got)
			}
			assertModel(t, pool, p, 1, want)

			// acc-b registers last: its member row and message take the name.
			applyBatch(t, target, []projection.Event{j.register("acc-b", "Bob")})
			want = j.model()
			if got := want.Rooms["room-1"].Members["acc-b"].Name; got != "Bob" {
				t.Fatalf("reference member name = %q, want Bob", got)
			}
			assertModel(t, pool, p, 1, want)
		})
	}
}
