# veloFlux developer commands. `make help` lists them.

CARGO ?= cargo
SHELL := /bin/bash

.PHONY: help build release release-thin run test test-browser fmt clippy lint bench

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

build: ## Debug build of every crate
	$(CARGO) build --workspace

release: ## Optimized build
	$(CARGO) build --release

# Position-dependent (relocation-model=static): a position-independent executable carries
# megabytes of relocations, read and applied at every start. On x86_64 Linux, whose default
# linker is rust-lld, identical functions are also folded (--icf=safe); GNU ld, the default
# elsewhere, cannot. See docs/PERFORMANCE.md, Footprint.
comma := ,
THIN_ICF := $(if $(filter x86_64,$(shell uname -m)),-C link-arg=-Wl$(comma)--icf=safe)
release-thin: ## Smallest build: for size, stripped, position-dependent, no optional features
	$(CARGO) rustc --profile release-thin --no-default-features --bin veloFlux -- \
		-C relocation-model=static $(THIN_ICF)

run: ## Start the server (data in ./tmp/data; embedded broker on 127.0.0.1:1883 unless one listens)
	@if (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then broker=""; \
	else broker="--embedded-broker 127.0.0.1:1883"; fi; \
	$(CARGO) run --release -- --data-dir ./tmp/data $$broker

test: ## Every test: unit, SQL conformance (.slt) and integration
	$(CARGO) test --workspace

fmt: ## Format the code
	$(CARGO) fmt --all

clippy: ## Lint with warnings as errors
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-browser: ## The web console in Chromium (needs node, chromium, mosquitto; docs/console.md)
	tests/browser/run.sh

lint: ## Check formatting and lints, as CI does
	$(CARGO) fmt --all -- --check
	$(MAKE) clippy

bench: ## Criterion benches of codecs, kernels, the whole chain and the connectors (release build)
	$(CARGO) bench -p veloflux-benches
	$(CARGO) bench -p veloflux --bench taps

.PHONY: bench-chart
bench-chart: ## Tables and chart of docs/PERFORMANCE.md from the last `make bench`
	$(CARGO) run --release -q -p veloflux-benches --bin perf-chart

# The end-to-end benches run the release server against a real broker (Mosquitto on
# 127.0.0.1:1883 unless BROKER says otherwise); ARGS passes more flags (e.g. ARGS="--messages
# 20000" for a quick run, ARGS="--server-cpus 1" to pin the server, ARGS="--workloads
# w2-q0,w2-q1 --checkpoint-interval-ms 0" for W2 without checkpoints, ARGS="--pipelines
# 300,1000" for many pipelines on one stream). Figures in docs/PERFORMANCE.md.
BROKER ?= tcp://127.0.0.1:1883
ARGS ?=
BENCH_BIN = "$${CARGO_TARGET_DIR:-target}/release"

.PHONY: bench-e2e bench-sweep bench-footprint bench-webhook-outage
bench-e2e: ## End to end through the broker: relay ceiling, W1 at QoS 0 and 1, W2 (BROKER=, ARGS=)
	$(CARGO) build --release -p veloflux -p veloflux-benches
	$(BENCH_BIN)/bench-e2e --broker $(BROKER) $(ARGS)

bench-sweep: ## W1 for batch_size x linger_ms; draws docs/img/batch-sweep.svg (BROKER=, ARGS=)
	$(CARGO) build --release -p veloflux -p veloflux-benches
	$(BENCH_BIN)/bench-e2e --sweep --broker $(BROKER) $(ARGS)

bench-webhook-outage: ## The HTTP sink across a 30 s webhook outage: every row once, in order (ARGS=)
	$(CARGO) build --release -p veloflux-benches --bin webhook-outage
	$(BENCH_BIN)/webhook-outage $(ARGS)

bench-footprint: release-thin ## Memory idle and per pipeline, restore time, binary sizes (BROKER=, ARGS=)
	$(CARGO) build --release -p veloflux -p veloflux-benches
	$(BENCH_BIN)/bench-footprint --broker $(BROKER) $(ARGS)
