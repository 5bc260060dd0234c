package search

// StateID exposes stateID to the tests: the id of an aggregate's state document.
var StateID = stateID
