package search

// StateBucketOf exposes bucketOf to the tests: the number of the states bucket that holds an aggregate id.
var StateBucketOf = bucketOf
