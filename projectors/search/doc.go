// Package search is the search projection: it keeps one document per live message in a search index
// "<name>_v<N>" (OpenSearch or Elasticsearch) behind the alias "<name>", with the room and sender names
// denormalized, and a fixed number of state buckets ("states:<n>", see stateBuckets) that hold each aggregate's
// State and current name.
//
// Exactly-once in effect comes from external versioning: a message document's version is composite,
// roomSeq<<24 | senderAccountSeq, so a later room event and a later account rename both raise it, and writing
// an older or equal version is answered 409, which the projection counts as already applied. State buckets are
// written after the message documents, so that a state never runs ahead of the documents it describes, and
// only if nobody wrote them since they were read (if_seq_no), so that processes applying other partitions
// never lose each other's states.
package search
