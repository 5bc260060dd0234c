package e2e

import (
	"testing"
)

// TestEndToEnd starts the system once and runs every scenario against it in parallel, each with its own
// accounts and rooms; the system is stopped and its resources removed after the last scenario ends.
func TestEndToEnd(t *testing.T) {
	sys := startSystem(t)
	for _, sc := range []struct {
		name string
		run  func(*testing.T, *system)
	}{
		{"conversation with renames", conversationWithRenames},
		{"member removal", memberRemoval},
		{"message edit and delete", messageEditAndDelete},
		{"read your writes", readYourWrites},
		{"pagination", pagination},
		{"bad input", badInput},
		{"search order", searchOrder},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t, sys)
		})
	}
}
