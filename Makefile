# Everything a developer or CI runs goes through these targets; README.md documents them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO            ?= go
SERVICES      := writer relay projectors queryapi
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
TEST_FLAGS    ?= -race -count=1 -timeout 30m
# The benchmarks `make bench` runs: those that record a ratio into .bench/results.json.
BENCH         ?= Ratio
# Flags of `make demo`, e.g. DEMO_ARGS='-messages 2000 -seed 7' (see go run ./deploy/local/demo -h).
DEMO_ARGS     ?=
# Load the local stack's endpoints (written by `make up`) into the environment of a command.
WITH_ENV      := set -a; . .local/env; set +a;

.PHONY: help up down status clean-local build run demo test bench lint tidy-check synth

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

up: ## install (once) and start the local stack: Kafka, OpenSearch, moto, PostgreSQL; writes .local/env
	@deploy/local/stack.sh up

down: ## stop the local stack (only the processes it started, by their PID files)
	@deploy/local/stack.sh down

status: ## what of the local stack runs, where, since when
	@deploy/local/stack.sh status

clean-local: ## stop the local stack and delete .local/ (installs, data, logs)
	@deploy/local/stack.sh clean

build: ## build every service into bin/
	@mkdir -p bin
	@for s in $(SERVICES); do $(GO) build -trimpath -o bin/$$s ./$$s || exit 1; done
	@echo "built: $(addprefix bin/,$(SERVICES))"

run: up build ## start the stack and every service in the foreground (Ctrl-C stops the services, not the stack)
	@deploy/local/run.sh $(SERVICES)

demo: ## load demo accounts, rooms and English/Japanese messages into the running writer (flags: DEMO_ARGS='-messages 200')
	@$(WITH_ENV) $(GO) run ./deploy/local/demo $(DEMO_ARGS)

test: up ## start the stack, then run every test (unit and integration) with the race detector, then the CDK tests
	@$(WITH_ENV) $(GO) test $(TEST_FLAGS) ./...
	@cd deploy/aws && JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION=1 $(GO) test -count=1 ./...

synth: ## synthesize the AWS stack (deploy/aws) into deploy/aws/cdk.out without the CDK CLI (needs node)
	@cd deploy/aws && CDK_OUTDIR=$(CURDIR)/deploy/aws/cdk.out JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION=1 $(GO) run .

# The report is printed even when go test fails (what was recorded, a failed or killed benchmark's results as
# misses); make bench fails when the benchmarks fail or the report finds a miss.
bench: up ## run the benchmarks (each a ratio against a reference, with its target) into .bench/results.json; print them; fail on any miss
	@rm -f .bench/results.json
	@tests=0; report=0; \
	$(WITH_ENV) $(GO) test -run '^$$' -bench '$(BENCH)' -benchtime 1x -count 1 -timeout 60m ./... || tests=$$?; \
	$(GO) run ./internal/benchkit/report || report=$$?; \
	if [ $$tests -ne 0 ]; then echo "make bench: FAILED: go test exited $$tests (a benchmark failed, was killed or timed out; see above)" >&2; fi; \
	if [ $$report -ne 0 ]; then echo "make bench: FAILED: the report exited $$report (a target missed, or no results)" >&2; fi; \
	[ $$tests -eq 0 ] && [ $$report -eq 0 ]

lint: ## gofmt, go vet, staticcheck (pinned), go mod tidy check
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@$(GO) vet ./...
	@$(GO) run $(STATICCHECK) ./...
	@$(MAKE) --no-print-directory tidy-check

tidy-check: ## fail when go.mod or go.sum are not tidy
	@cp go.mod .go.mod.bak; cp go.sum .go.sum.bak; $(GO) mod tidy; \
	  if ! cmp -s go.mod .go.mod.bak || ! cmp -s go.sum .go.sum.bak; then \
	    mv .go.mod.bak go.mod; mv .go.sum.bak go.sum; echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; fi; \
	  rm -f .go.mod.bak .go.sum.bak
