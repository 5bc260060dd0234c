// Package schemas is the published contract of the pipeline's events: one JSON Schema per event type and
// version, the envelope, Go types, golden examples and upcasters. It imports nothing of the services, so
// producers and consumers in any repository can depend on it alone.
package schemas
