// Package compose holds no code: its tests load the repository's docker-compose.yml with the compose
// specification's Go library (offline, schema validation and consistency checks on) and check that it agrees
// with the services' configuration structs (deploy/env/*.json), their listen addresses, health endpoints and
// start order, and with deploy/Dockerfile.
package compose
