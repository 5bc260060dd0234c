// Package search is the search projection: it keeps one document per live message in a search index
// "<name>_v<N>" (OpenSearch or Elasticsearch) behind the alias "<name>", with the room and sender names
// denormalized, and one small state document per aggregate ("state:<aggregate id>", see stateID) that holds its
// State and current name, so that a batch reads and writes the bookkeeping of its own aggregates only.
//
// Exactly-once in effect comes from external versioning: a message document's version is composite,
// roomSeq<<26 | senderAccountSeq (see senderBits for its limits), so a later room event and a later account
// rename both raise it, and writing an older or equal version is answered 409, which the projection counts as
// already applied. State documents are written after the message documents, so that a state never runs ahead
// of the documents it describes, and only if nobody wrote them since they were read (if_seq_no, or op_type
// create for a new one), so that two processes applying the same aggregate cannot both succeed.
package search
