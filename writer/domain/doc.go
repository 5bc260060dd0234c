// Package domain is the group chat's write model: the Account and Room aggregates, their commands, their events
// and the rules that decide between them. It imports the standard library only, decides and returns events, and
// never stores them; state changes only by applying events.
package domain
