#!/usr/bin/env bash
# Build tracebridge's pinned Go tools from Go modules into a cache outside the repository:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/tracebridge/tools/<name>-<version>/bin/<binary>
#
# and fetch the Kubernetes OpenAPI v3 schemas kubectl-validate needs offline:
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/tracebridge/tools/k8s-schemas/<minor>/{api,apis}/...
#
# and the prometheus-operator CustomResourceDefinitions it validates the chart's ServiceMonitor,
# PodMonitor and PrometheusRule against (--local-crds):
#
#   ${XDG_CACHE_HOME:-$HOME/.cache}/tracebridge/tools/prometheus-operator-crds-<version>/*.yaml
#
# and the components of the local Kubernetes cluster (cluster/, make cluster-up):
#
#   kubernetes (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy,
#   kubectl), etcd, containerd (containerd, containerd-shim-runc-v2, ctr), coredns, kube-router,
#   local-path-provisioner
#
# Usage: collector/build-tools.sh <tool>|all|cluster   (tools: see ALL_TOOLS and CLUSTER_TOOLS)
#
# Idempotent: a tool whose binary is already in place and answers its version command is
# skipped. Each tool is built in a temporary directory inside the cache and renamed into
# place only once it works, so an interrupted build never leaves a half-installed tool.
# The absolute path of each binary (for k8s-schemas: of the schema root; for
# prometheus-operator-crds: of the CRD directory) is printed on
# stdout; progress goes to stderr.
# Why these versions, and what the module proxy reachable here can and cannot serve:
# collector/README.md.
set -euo pipefail

# ---- pinned versions ---------------------------------------------------------------------
# OpenTelemetry Collector: ocb and every component at one release. Core modules come in
# pairs (v0.155.0 for beta modules, v1.61.0 for stable ones); contrib is v0.155.0. The
# component list itself is pinned in collector/builder-config.yaml.
OTELCOL_VERSION=0.155.0
# The collector's cache key also carries a digest of what selects its components (the builder
# manifest and the local datadogconnector module), so adding a component rebuilds it.
OTELCOL_KEY="$OTELCOL_VERSION-$(cat "$(dirname "${BASH_SOURCE[0]}")/builder-config.yaml" "$(dirname "${BASH_SOURCE[0]}")"/datadogconnector/* | sha256sum | cut -c1-12)"
# Jaeger v2.13.0: its release commit also carries the tag v1.76.0, the only form the module
# proxy accepts (module path github.com/jaegertracing/jaeger has no /v2 suffix, so the v2.x.y
# tags are not valid module versions).
JAEGER_VERSION=2.13.0
JAEGER_MODULE_VERSION=v1.76.0
JAEGER_RELEASE_DATE=2025-12-03T16:07:08Z
HELM_VERSION=4.3.1
KUBECTL_VALIDATE_VERSION=0.0.4
# kubectl-validate v0.0.4 (the only version the module proxy lists) embeds schemas for
# Kubernetes 1.23-1.30 only; for newer versions it asks api.github.com, unreachable here. These are the official OpenAPI v3 specs
# (api/openapi-spec/v3 of the kubernetes repository) at the newest patch of each minor that
# the module proxy serves, taken from the checksum-verified k8s.io/kubernetes module zips.
K8S_SCHEMA_VERSIONS=(1.31.14 1.32.13 1.33.13 1.34.4 1.35.4)
# The Gateway API's standard-channel CRDs (HTTPRoute, Gateway, ...), for kubectl-validate's
# --local-crds: config/crd/standard of the sigs.k8s.io/gateway-api module zip. (v1.7.0 needs
# go >= 1.27 to download: its go.mod says so, and the toolchain here is 1.26.)
GATEWAY_API_VERSION=1.6.3
# kube-linter's go.mod says module golang.stackrox.io/kube-linter, a host the module proxy
# refuses (403 "Go module host not permitted"). The proxy does serve the same release under
# its GitHub path, github.com/stackrox/kube-linter@v0.8.3 (checksum database record
# included), which `go install` rejects for the path mismatch: it is built from source
# (build_module_source), as the main module.
KUBE_LINTER_VERSION=0.8.3
ACTIONLINT_VERSION=1.7.12
# Helm 3, next to the pinned Helm 4 above: the newest v3 the module proxy lists
# (`go list -m -versions helm.sh/helm/v3`); the chart must render the same with both.
HELM3_VERSION=3.22.0
# chart-testing (ct lint). The proxy refuses the version list of github.com/helm/chart-testing/v3
# (403) but serves v3.14.0, its newest release. ct runs yamllint and yamale from PATH: they come
# from PyPI at the pins of .config/ct/requirements.txt, so the cache key carries that file's digest.
CHART_TESTING_VERSION=3.14.0
CHART_TESTING_REQUIREMENTS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.config/ct/requirements.txt"
CHART_TESTING_KEY="$CHART_TESTING_VERSION-$(sha256sum "$CHART_TESTING_REQUIREMENTS" | cut -c1-12)"
# The prometheus-operator CRDs (example/prometheus-operator-crd/ of the module zip, unchanged):
# v0.85.0 is the only version the module proxy here lists.
PROMETHEUS_OPERATOR_VERSION=0.85.0
# Prometheus v3.x.y is published as Go module version v0.3xx.y (v3.15.0 -> v0.315.0).
PROMETHEUS_VERSION=3.15.0
PROMETHEUS_MODULE_VERSION=v0.315.0
# OpenSearch and Elasticsearch, one node each for the tests of Jaeger's opensearch and
# elasticsearch storage, assembled from Maven Central (the only place their servers are served
# from here; collector/README.md). OpenSearch: the newest 2.x, which runs on Java 17 (3.x needs
# Java 21). Elasticsearch: the newest 7.17 Maven Central serves (8.x starts through its CLI
# launcher, which is not published there). Each cache key carries a digest of
# collector/search-node/ (config, policy, keystore writer, launcher).
OPENSEARCH_VERSION=2.19.6
ELASTICSEARCH_VERSION=7.17.29
SEARCH_NODE_DIGEST=$(find "$(dirname "${BASH_SOURCE[0]}")/search-node" -type f | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-12)

# The local cluster (cluster/README.md says why each and what the module proxy serves).
KUBERNETES_VERSION=1.35.4
ETCD_VERSION=3.6.16
CONTAINERD_VERSION=2.4.2
COREDNS_VERSION=1.14.7
KUBE_ROUTER_VERSION=2.1.0
# The dynamic PersistentVolume provisioner kind ships (StorageClass "standard" there); v0.0.30 is
# the newest version the module proxy serves.
LOCAL_PATH_PROVISIONER_VERSION=0.0.30

ALL_TOOLS=(actionlint helm helm3 chart-testing kubectl-validate k8s-schemas prometheus-operator-crds gateway-api-crds kube-linter jaeger prometheus promtool opensearch elasticsearch otelcol)
CLUSTER_TOOLS=(kubernetes etcd containerd coredns kube-router local-path-provisioner)

# ---- environment -------------------------------------------------------------------------
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/tracebridge/tools"
# A build cache of its own: tool builds are large (the collector alone is several GiB of
# build cache) and deleting $CACHE_ROOT then removes all of it. The module cache
# (GOMODCACHE) stays the user's default, shared with every other Go build.
export GOCACHE="${TRACEBRIDGE_GOCACHE:-$CACHE_ROOT/.go-build}"
# Static binaries, no C toolchain needed; the upstream release binaries are built the same way.
export CGO_ENABLED=0
# Never pick up a go.work from a parent directory (Prometheus' source tree ships one).
export GOWORK=off
# GOFLAGS, GOPROXY and GOSUMDB are left as the caller set them: checksums are always verified.

log() { printf '[build-tools] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# install_tool NAME VERSION BINARY BUILD_FUNCTION VERSION_ARGS...
# Skips when <cache>/NAME-VERSION/bin/BINARY exists and runs VERSION_ARGS; otherwise calls
# BUILD_FUNCTION <tmpdir>/bin, checks the new binary the same way and renames the temporary
# directory into place (same filesystem, so the rename is atomic).
install_tool() {
  local name=$1 version=$2 binary=$3 build=$4
  shift 4
  local dir="$CACHE_ROOT/$name-$version"
  local bin="$dir/bin/$binary"
  if [[ -x $bin ]] && "$bin" "$@" >/dev/null 2>&1; then
    log "$name $version: already built"
    echo "$bin"
    return 0
  fi
  mkdir -p "$CACHE_ROOT"
  local tmp start=$SECONDS
  tmp=$(mktemp -d "$CACHE_ROOT/.tmp-$name-$version.XXXXXX")
  chmod 755 "$tmp"  # mktemp -d creates it 0700; the installed tool should be usable by all
  # shellcheck disable=SC2064 # expand $tmp now: it is local to this function
  trap "rm -rf '$tmp'" EXIT
  mkdir -p "$tmp/bin"
  log "$name $version: building (go $(go env GOVERSION), GOCACHE=$GOCACHE)"
  "$build" "$tmp/bin"
  [[ -x $tmp/bin/$binary ]] || die "$name: the build produced no $binary"
  "$tmp/bin/$binary" "$@" >/dev/null 2>&1 || die "$name: '$binary $*' fails on the new binary"
  rm -rf "$dir.old"
  if [[ -e $dir ]]; then mv "$dir" "$dir.old"; fi  # a broken earlier install
  mv "$tmp" "$dir"
  rm -rf "$dir.old"
  trap - EXIT
  log "$name $version: built in $((SECONDS - start))s"
  echo "$bin"
}

# go_install OUTDIR PACKAGE@VERSION [LDFLAGS]: plain `go install` for modules that allow it.
go_install() {
  local out=$1 pkg=$2 ldflags=${3:-}
  GOBIN="$out" go install -trimpath -ldflags="-s -w $ldflags" "$pkg"
}

# build_module_source OUTFILE MODULE VERSION PACKAGE_DIR [LDFLAGS]
# For modules whose go.mod has replace directives, which `go install module@version`
# refuses: copy the module (verified against the checksum database when downloaded) and
# build it as the main module, so that its own go.mod, replace directives and go.sum apply
# exactly as in the upstream release build.
build_module_source() {
  local out=$1 module=$2 version=$3 pkgdir=$4 ldflags=${5:-}
  local src work
  src=$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -n $src && -d $src ]] || die "go mod download $module@$version failed"
  work=$(dirname "$out")/src
  cp -R "$src" "$work"
  chmod -R u+w "$work"
  (cd "$work" && go build -trimpath -mod=readonly -ldflags="-s -w $ldflags" -o "$out" "./$pkgdir")
  rm -rf "$work"
}

# ---- tools ---------------------------------------------------------------------------------
build_ocb() {
  go_install "$1" "go.opentelemetry.io/collector/cmd/builder@v$OTELCOL_VERSION"
}

build_otelcol() {
  local out=$1 ocb gen
  ocb=$(install_tool ocb "$OTELCOL_VERSION" builder build_ocb version)
  gen=$(dirname "$out")/src
  # The manifest's dist.output_path is a placeholder: point it at the temporary directory
  # (ocb's --output-path flag is deprecated in favour of the manifest key).
  sed "s|^\([[:space:]]*output_path:\).*|\1 $gen|" "$HERE/builder-config.yaml" >"$(dirname "$out")/builder-config.yaml"
  # GOFLAGS=-e: ocb runs `go mod tidy`, which also loads the tests of every component's
  # dependencies. A few modules only those tests import are not served by the module proxy
  # here, or have no checksum-database record reachable from here (see collector/README.md).
  # -e lets tidy finish without them; `go build` does not need them, and everything it does
  # need is still verified against the checksum database.
  # cwd = collector/, because relative `path:` entries in the manifest resolve from it.
  (cd "$HERE" && GOFLAGS="${GOFLAGS:-} -e" "$ocb" --config "$(dirname "$out")/builder-config.yaml")
  mv "$gen/otelcol-tracebridge" "$out/"
  # Keep the generated go.mod/go.sum next to the binary: the exact dependency set it was built from.
  mkdir -p "$(dirname "$out")/share"
  cp "$gen/go.mod" "$gen/go.sum" "$gen/components.go" "$(dirname "$out")/share/"
  rm -rf "$gen"
}

build_jaeger() {
  build_module_source "$1/jaeger" github.com/jaegertracing/jaeger "$JAEGER_MODULE_VERSION" cmd/jaeger \
    "-X github.com/jaegertracing/jaeger/internal/version.latestVersion=v$JAEGER_VERSION -X github.com/jaegertracing/jaeger/internal/version.date=$JAEGER_RELEASE_DATE"
}

build_helm() {
  go_install "$1" "helm.sh/helm/v4/cmd/helm@v$HELM_VERSION" \
    "-X helm.sh/helm/v4/internal/version.version=v$HELM_VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
}

build_helm3() {
  # Like upstream's Makefile: the default Kubernetes version (.Capabilities.KubeVersion of
  # helm template and helm lint) is that of the client-go the release builds with; Helm 4 reads
  # it from the build info instead.
  local src client
  src=$(go mod download -json "helm.sh/helm/v3@v$HELM3_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -n $src && -d $src ]] || die "go mod download helm.sh/helm/v3@v$HELM3_VERSION failed"
  client=$(sed -n 's/^[[:space:]]*k8s\.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$src/go.mod")
  [[ -n $client ]] || die "helm3: no k8s.io/client-go in helm.sh/helm/v3@v$HELM3_VERSION's go.mod"
  local p ldflags="-X helm.sh/helm/v3/internal/version.version=v$HELM3_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldflags+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$client"
  done
  go_install "$1" "helm.sh/helm/v3/cmd/helm@v$HELM3_VERSION" "$ldflags"
}

# ct_venv: the virtualenv of ct's linters, ${XDG_CACHE_HOME:-$HOME/.cache}/tracebridge/venv/
# ct-<hash of requirements.txt>, made the way test/drills/fuzz/setup.sh makes its own (a lock,
# exact pins with --no-deps, pip check, a .complete marker). Prints its bin directory.
ct_venv() {
  local hash venv python=${PYTHON:-python3}
  hash=$(sha256sum "$CHART_TESTING_REQUIREMENTS" | cut -c1-16)
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/tracebridge/venv/ct-$hash"
  command -v "$python" >/dev/null 2>&1 || die "chart-testing: $python not found (yamllint and yamale need Python 3)"
  mkdir -p "$(dirname "$venv")"
  (
    flock 9
    if [[ ! -f $venv/.complete ]]; then
      log "chart-testing: creating $venv (yamllint, yamale from PyPI, pinned in .config/ct/requirements.txt)"
      rm -rf "$venv"
      "$python" -m venv "$venv"
      "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input --no-deps -r "$CHART_TESTING_REQUIREMENTS" >&2
      "$venv/bin/python" -m pip check >&2
      "$venv/bin/yamllint" --version >/dev/null && "$venv/bin/yamale" --help >/dev/null
      touch "$venv/.complete"
    fi
  ) 9>"$venv.lock"
  echo "$venv/bin"
}

# ct, with yamllint and yamale linked next to it: put the binary's directory first on PATH.
# Built from source (build_module_source): `go install ct@version` also asks for the module's
# version list to look for a deprecation notice, which the proxy refuses (403) for this module.
build_chart_testing() {
  local venv
  build_module_source "$1/ct" github.com/helm/chart-testing/v3 "v$CHART_TESTING_VERSION" ct \
    "-X github.com/helm/chart-testing/v3/ct/cmd.Version=v$CHART_TESTING_VERSION"
  venv=$(ct_venv)
  ln -s "$venv/yamllint" "$1/yamllint"
  ln -s "$venv/yamale" "$1/yamale"
}

build_kubectl_validate() {
  go_install "$1" "sigs.k8s.io/kubectl-validate@v$KUBECTL_VALIDATE_VERSION"
}

build_kube_linter() {
  # Same flags as upstream's .goreleaser.yaml (-trimpath, -mod=readonly, -s -w, version -X).
  build_module_source "$1/kube-linter" github.com/stackrox/kube-linter "v$KUBE_LINTER_VERSION" cmd/kube-linter \
    "-X golang.stackrox.io/kube-linter/internal/version.version=$KUBE_LINTER_VERSION"
}

# fetch_module_files NAME MODULE VERSION DIR MARKER COPY [SMOKE]: DIR holds files taken from the
# checksum-verified zip of the Go module MODULE@vVERSION (GOSUMDB verifies it; a private module
# cache is deleted afterwards). `COPY SRC OUT` copies them from the module's directory into OUT;
# `SMOKE OUT SCRATCH`, if given, must pass before OUT replaces DIR. DIR/VERSION records module,
# version and checksum and is, with DIR/MARKER, the idempotency stamp.
fetch_module_files() {
  local name=$1 module=$2 version=$3 dir=$4 marker=$5 copy=$6 smoke=${7:-}
  local stamp="$module v$version"
  if [[ -s $dir/$marker ]] && [[ $(cut -d' ' -f1,2 "$dir/VERSION" 2>/dev/null) == "$stamp" ]]; then
    log "$name $version: already fetched"
    return 0
  fi
  mkdir -p "$(dirname "$dir")"
  local tmp json start=$SECONDS
  tmp=$(mktemp -d "$(dirname "$dir")/.tmp-$(basename "$dir").XXXXXX")
  chmod 755 "$tmp"
  # shellcheck disable=SC2064 # expand $tmp now: it is local to this function
  trap "rm -rf '$tmp'" EXIT
  log "$name $version: fetching $module@v$version from the module proxy"
  # -modcacherw: a plain rm -rf can delete the private module cache.
  json=$(cd "$tmp" && GOMODCACHE="$tmp/modcache" GOFLAGS="${GOFLAGS:-} -modcacherw" go mod download -json "$module@v$version") \
    || die "go mod download $module@v$version failed"
  mkdir -p "$tmp/out"
  "$copy" "$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json")" "$tmp/out"
  chmod -R u+w,go+rX "$tmp/out"
  printf '%s %s\n' "$stamp" "$(sed -n 's/^[[:space:]]*"Sum": "\(.*\)",$/\1/p' <<<"$json")" >"$tmp/out/VERSION"
  rm -rf "$tmp/modcache"
  [[ -s $tmp/out/$marker ]] || die "$name $version: $module@v$version has no $marker"
  if [[ -n $smoke ]]; then "$smoke" "$tmp/out" "$tmp" || die "$name $version: kubectl-validate smoke test failed"; fi
  rm -rf "$dir.old"
  if [[ -e $dir ]]; then mv "$dir" "$dir.old"; fi
  mv "$tmp/out" "$dir"
  rm -rf "$dir.old" "$tmp"
  trap - EXIT
  log "$name $version: fetched in $((SECONDS - start))s ($(find "$dir" -type f ! -name VERSION | wc -l) files)"
}

# The smoke tests run the kubectl-validate that KUBECTL_VALIDATE names.
KUBECTL_VALIDATE=

# k8s-schemas: api/openapi-spec/v3 of k8s.io/kubernetes, api__v1_openapi.json -> api/v1.json and
# apis__<group>__<version>_openapi.json -> apis/<group>/<version>.json, the layout
# kubectl-validate's --local-schemas reads. The discovery documents (api_openapi.json,
# apis__<group>_openapi.json, version_openapi.json, ...) are not schemas of objects.
copy_k8s_openapi() {
  local src=$1/api/openapi-spec/v3 out=$2 f base rest
  [[ -d $src ]] || die "k8s.io/kubernetes has no api/openapi-spec/v3"
  mkdir -p "$out/api" "$out/apis"
  for f in "$src"/*_openapi.json; do
    base=$(basename "$f" _openapi.json)
    case $base in
      api__*) cp "$f" "$out/api/${base#api__}.json" ;;
      apis__*__*)
        rest=${base#apis__}
        mkdir -p "$out/apis/${rest%%__*}"
        cp "$f" "$out/apis/${rest%%__*}/${rest#*__}.json"
        ;;
    esac
  done
  [[ -s $out/api/v1.json ]] || die "k8s.io/kubernetes has no api/openapi-spec/v3/api__v1_openapi.json"
}

# k8s_schema_smoke_test SCHEMA_DIR SCRATCH: a valid Deployment passes, one with replicas: "two"
# and one with an unknown field fail. --version "" matters: with a version set,
# kubectl-validate also loads that version's embedded schemas and merges them under the local
# ones (the default, 1.30, lets flowcontrol v1beta3 pass against 1.35), or, for a version it
# does not embed, asks GitHub and fails (exit 2).
k8s_schema_smoke_test() {
  local schemas=$1 scratch=$2
  local ok="$scratch/ok.yaml"
  cat >"$ok" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: smoke}
spec:
  replicas: 2
  selector: {matchLabels: {app: smoke}}
  template:
    metadata: {labels: {app: smoke}}
    spec:
      containers: [{name: smoke, image: "registry.invalid/smoke:1"}]
YAML
  sed 's/replicas: 2/replicas: "two"/' "$ok" >"$scratch/bad-type.yaml"
  sed 's/replicas: 2/replicas: 2\n  replica: 2/' "$ok" >"$scratch/bad-field.yaml"
  KUBECONFIG=/dev/null "$KUBECTL_VALIDATE" --version "" --local-schemas "$schemas" "$ok" >/dev/null 2>&1 || return 1
  if KUBECONFIG=/dev/null "$KUBECTL_VALIDATE" --version "" --local-schemas "$schemas" "$scratch/bad-type.yaml" >/dev/null 2>&1; then return 1; fi
  if KUBECONFIG=/dev/null "$KUBECTL_VALIDATE" --version "" --local-schemas "$schemas" "$scratch/bad-field.yaml" >/dev/null 2>&1; then return 1; fi
  rm -f "$ok" "$scratch/bad-type.yaml" "$scratch/bad-field.yaml"
}

# <cache>/k8s-schemas/<minor>/ for each of K8S_SCHEMA_VERSIONS (kubectl-validate --local-schemas).
install_k8s_schemas() {
  local root="$CACHE_ROOT/k8s-schemas" version
  KUBECTL_VALIDATE=$(install_tool kubectl-validate "$KUBECTL_VALIDATE_VERSION" kubectl-validate build_kubectl_validate --help)
  for version in "${K8S_SCHEMA_VERSIONS[@]}"; do
    fetch_module_files k8s-schemas k8s.io/kubernetes "$version" "$root/${version%.*}" apis/apps/v1.json copy_k8s_openapi k8s_schema_smoke_test
  done
  echo "$root"
}

# prometheus-operator-crds: the monitoring.coreos.com CRDs (ServiceMonitor, PodMonitor,
# PrometheusRule, ...) of example/prometheus-operator-crd/, unchanged.
copy_prometheus_operator_crds() {
  cp "$1"/example/prometheus-operator-crd/monitoring.coreos.com_*.yaml "$2/"
}

# crd_smoke_test CRD_DIR SCRATCH: a valid ServiceMonitor passes, one with an unknown field and
# one with interval "often" (not a duration) fail.
crd_smoke_test() {
  local crds=$1 scratch=$2
  local ok="$scratch/ok.yaml"
  cat >"$ok" <<'YAML'
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: smoke}
spec:
  selector: {matchLabels: {app: smoke}}
  endpoints: [{port: metrics, interval: 30s}]
YAML
  sed 's/interval: 30s/interval: often/' "$ok" >"$scratch/bad-type.yaml"
  sed 's/interval: 30s/intervals: 30s/' "$ok" >"$scratch/bad-field.yaml"
  KUBECONFIG=/dev/null "$KUBECTL_VALIDATE" --local-crds "$crds" "$ok" >/dev/null 2>&1 || return 1
  if KUBECONFIG=/dev/null "$KUBECTL_VALIDATE" --local-crds "$crds" "$scratch/bad-type.yaml" >/dev/null 2>&1; then return 1; fi
  if KUBECONFIG=/dev/null "$KUBECTL_VALIDATE" --local-crds "$crds" "$scratch/bad-field.yaml" >/dev/null 2>&1; then return 1; fi
  rm -f "$ok" "$scratch/bad-type.yaml" "$scratch/bad-field.yaml"
}

# Prints the directory (kubectl-validate --local-crds).
install_prometheus_operator_crds() {
  local dir="$CACHE_ROOT/prometheus-operator-crds-$PROMETHEUS_OPERATOR_VERSION"
  KUBECTL_VALIDATE=$(install_tool kubectl-validate "$KUBECTL_VALIDATE_VERSION" kubectl-validate build_kubectl_validate --help)
  fetch_module_files prometheus-operator-crds github.com/prometheus-operator/prometheus-operator "$PROMETHEUS_OPERATOR_VERSION" \
    "$dir" monitoring.coreos.com_servicemonitors.yaml copy_prometheus_operator_crds crd_smoke_test
  echo "$dir"
}

# gateway-api-crds: the CRDs of the standard channel (config/crd/standard), unchanged; the
# release also ships a ValidatingAdmissionPolicy there (vap_safeupgrades.yaml), left out.
copy_gateway_api_crds() {
  local f
  for f in "$1"/config/crd/standard/*.yaml; do
    if grep -q '^kind: CustomResourceDefinition$' "$f"; then cp "$f" "$2/"; fi
  done
}

# Prints the directory (kubectl-validate --local-crds).
install_gateway_api_crds() {
  local dir="$CACHE_ROOT/gateway-api-crds-$GATEWAY_API_VERSION"
  fetch_module_files gateway-api-crds sigs.k8s.io/gateway-api "$GATEWAY_API_VERSION" \
    "$dir" gateway.networking.k8s.io_httproutes.yaml copy_gateway_api_crds
  echo "$dir"
}

build_actionlint() {
  # actionlint reads its version from the module build info that `go install` records.
  go_install "$1" "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION"
}

build_prometheus() {
  # Without the builtinassets tag the web UI is not embedded (it needs an npm build);
  # the HTTP API (/api/v1/...) works as usual.
  build_module_source "$1/prometheus" github.com/prometheus/prometheus "$PROMETHEUS_MODULE_VERSION" cmd/prometheus \
    "-X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION -X github.com/prometheus/common/version.Branch=HEAD -X github.com/prometheus/common/version.BuildUser=tracebridge"
}

build_promtool() {
  # Checks the chart's Prometheus configuration offline (promtool check config).
  build_module_source "$1/promtool" github.com/prometheus/prometheus "$PROMETHEUS_MODULE_VERSION" cmd/promtool \
    "-X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION -X github.com/prometheus/common/version.Branch=HEAD -X github.com/prometheus/common/version.BuildUser=tracebridge"
}

# A search node, laid out as the upstream distribution: lib/ (the server and its dependencies),
# modules/transport-netty4/ (the module's jar, its own dependencies and
# plugin-descriptor.properties), config/ (with an empty keystore: CreateKeystore.java), plugins/
# (empty), bin/ with the launcher (search-node/launcher.sh), and DISTRIBUTION. Only the
# transport-netty4 module: a node has no HTTP without it, and Jaeger's index templates and
# queries (nested tag queries, terms aggregations) need nothing beyond the server.

# mvn_copy POM_FILE OUTDIR: the artifacts of POM_FILE's dependencies and theirs into OUTDIR.
mvn_copy() {
  maven -f "$1" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$2"
}

# maven ARGS...: mvn in batch mode, its output shown only when it fails. --strict-checksums: a
# download whose checksum does not match fails the build.
maven() {
  local out
  out=$(mvn -B --strict-checksums "$@" 2>&1) || { printf '%s\n' "$out" >&2; die "mvn $* failed"; }
}

# maven_pom FILE GROUP:ARTIFACT:VERSION...: a POM with these dependencies.
maven_pom() {
  local file=$1 dep g a v
  shift
  {
    echo '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
    echo '<groupId>tracebridge.local</groupId><artifactId>search-node-assembly</artifactId><version>1</version><packaging>pom</packaging><dependencies>'
    for dep in "$@"; do
      IFS=: read -r g a v <<<"$dep"
      echo "<dependency><groupId>$g</groupId><artifactId>$a</artifactId><version>$v</version></dependency>"
    done
    echo '</dependencies></project>'
  } >"$file"
}

# build_search_node DISTRIBUTION VERSION BINDIR: DISTRIBUTION is opensearch (group org.opensearch)
# or elasticsearch (group org.elasticsearch); the artifacts are named alike in both.
build_search_node() {
  local name=$1 v=$2 out=$3 home work group log4j jar
  home=$(dirname "$out")
  work=$home/.maven
  group=org.$name
  command -v mvn >/dev/null || die "$name: mvn is not on PATH (Maven fetches $name from Maven Central)"
  mkdir -p "$work" "$home/lib" "$home/modules/transport-netty4" "$home/plugins" "$home/config"
  # OpenSearch's POM lists log4j-core, the logging backend the server runs with, as optional, so
  # Maven leaves it out: take the version the POM names (Elasticsearch's lists it plainly).
  log "$name $v: resolving the server ($group:$name) from Maven Central"
  maven dependency:copy -Dartifact="$group:$name:$v:pom" -DoutputDirectory="$work"
  log4j=$(sed -n '/<artifactId>log4j-core<\/artifactId>/{n;s/.*<version>\(.*\)<\/version>.*/\1/p;}' "$work/$name-$v.pom")
  [[ -n $log4j ]] || die "$name $v: its POM names no log4j-core version"
  # The plugin class loader is a separate artifact the distribution puts in lib/.
  maven_pom "$work/server.xml" "$group:$name:$v" "$group:$name-plugin-classloader:$v" "org.apache.logging.log4j:log4j-core:$log4j"
  mvn_copy "$work/server.xml" "$home/lib"
  log "$name $v: module transport-netty4 ($group.plugin:transport-netty4-client)"
  maven_pom "$work/netty.xml" "$group.plugin:transport-netty4-client:$v"
  mvn_copy "$work/netty.xml" "$work/netty"
  # Only what the server does not already load: the same class twice is "jar hell", and the
  # node refuses to start.
  for jar in "$work/netty"/*.jar; do
    [[ -e $home/lib/$(basename "$jar") ]] || cp "$jar" "$home/modules/transport-netty4/"
  done
  # The Maven jar has no descriptor (Gradle writes it into the distribution's zip only).
  printf '%s\n' "description=Netty 4 based transport implementation (from Maven Central)" "version=$v" \
    "name=transport-netty4" "classname=$group.transport.Netty4Plugin" "java.version=11" "$name.version=$v" \
    "extended.plugins=" "has.native.controller=false" >"$home/modules/transport-netty4/plugin-descriptor.properties"
  cp "$HERE/search-node/transport-netty4.policy" "$home/modules/transport-netty4/plugin-security.policy"
  cp "$HERE/search-node/node.yml" "$home/config/$name.yml"
  cp "$HERE/search-node/log4j2.properties" "$home/config/"
  "${JAVA_HOME:+$JAVA_HOME/bin/}java" -cp "$home/lib/*" "$HERE/search-node/CreateKeystore.java" "$home/config" "$group.common.settings.KeyStoreWrapper"
  cp "$HERE/search-node/launcher.sh" "$out/$name"
  chmod 755 "$out/$name"
  echo "$name $v" >"$home/DISTRIBUTION"
  [[ -s $home/lib/$name-$v.jar ]] || die "$name $v: no server jar in lib/"
  rm -rf "$work"
}

build_opensearch() { build_search_node opensearch "$OPENSEARCH_VERSION" "$1"; }
build_elasticsearch() { build_search_node elasticsearch "$ELASTICSEARCH_VERSION" "$1"; }

# ---- the local cluster -------------------------------------------------------------------
KUBERNETES_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

# The k8s.io/kubernetes module zip has go.mod replaces pointing at ./staging/src/k8s.io/*, which
# the zip does not ship, plus a go.work and a stub vendor/. Pointing each replace at the
# published staging module of the same release (v0.x.y) builds it unmodified.
build_kubernetes() {
  local out=$1 src work minor=${KUBERNETES_VERSION#*.}
  minor=${minor%%.*}
  src=$(go mod download -json "k8s.io/kubernetes@v$KUBERNETES_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -n $src && -d $src ]] || die "go mod download k8s.io/kubernetes@v$KUBERNETES_VERSION failed"
  work=$(dirname "$out")/src
  cp -R "$src" "$work"
  chmod -R u+w "$work"
  rm -rf "$work/go.work" "$work/go.work.sum" "$work/vendor"
  sed -i -E "s#^([[:space:]]*k8s\.io/[a-z0-9-]+) => \./staging/src/k8s\.io/[a-z0-9-]+#\1 => \1 v0.${KUBERNETES_VERSION#*.}#" "$work/go.mod"
  local pkg=k8s.io/component-base/version client=k8s.io/client-go/pkg/version ldflags="" p
  for p in $pkg $client; do
    ldflags+=" -X $p.gitVersion=v$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  local cmds=() b
  for b in "${KUBERNETES_BINARIES[@]}"; do cmds+=("./cmd/$b"); done
  (cd "$work" && GOFLAGS=-mod=mod go mod download && GOFLAGS=-mod=mod go build -trimpath -ldflags="-s -w $ldflags" -o "$out/" "${cmds[@]}")
  for b in "${KUBERNETES_BINARIES[@]}"; do [[ -x $out/$b ]] || die "kubernetes: $b was not built"; done
  rm -rf "$work"
}

# go.etcd.io/etcd/server/v3's go.mod replaces ../api and friends, so `go install` refuses it;
# built as a dependency of a stub module instead, which resolves the sibling modules at the
# same release.
build_etcd() {
  local out=$1 work
  work=$(dirname "$out")/src
  mkdir -p "$work"
  (cd "$work" && go mod init tracebridge.local/etcd >/dev/null 2>&1 \
    && go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >/dev/null \
    && go build -trimpath -ldflags="-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3)
  rm -rf "$work"
}

build_containerd() {
  local out=$1 src work b
  src=$(go mod download -json "github.com/containerd/containerd/v2@v$CONTAINERD_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -n $src && -d $src ]] || die "go mod download containerd v$CONTAINERD_VERSION failed"
  work=$(dirname "$out")/src
  cp -R "$src" "$work"
  chmod -R u+w "$work"
  for b in containerd containerd-shim-runc-v2 ctr; do
    (cd "$work" && go build -trimpath -mod=readonly -tags "no_btrfs no_devmapper no_zfs" \
      -ldflags="-s -w -X github.com/containerd/containerd/v2/version.Version=v$CONTAINERD_VERSION" -o "$out/$b" "./cmd/$b")
  done
  rm -rf "$work"
}

build_coredns() {
  build_module_source "$1/coredns" github.com/coredns/coredns "v$COREDNS_VERSION" .
}

build_kube_router() {
  build_module_source "$1/kube-router" github.com/cloudnativelabs/kube-router/v2 "v$KUBE_ROUTER_VERSION" cmd/kube-router \
    "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=v$KUBE_ROUTER_VERSION"
}

build_local_path_provisioner() {
  build_module_source "$1/local-path-provisioner" github.com/rancher/local-path-provisioner "v$LOCAL_PATH_PROVISIONER_VERSION" . \
    "-X main.VERSION=v$LOCAL_PATH_PROVISIONER_VERSION"
}

build_one() {
  case $1 in
    otelcol) install_tool otelcol "$OTELCOL_KEY" otelcol-tracebridge build_otelcol --version ;;
    jaeger) install_tool jaeger "$JAEGER_VERSION" jaeger build_jaeger version ;;
    helm) install_tool helm "$HELM_VERSION" helm build_helm version ;;
    helm3) install_tool helm3 "$HELM3_VERSION" helm build_helm3 version ;;
    chart-testing)
      # The venv first: it is recreated at the same path if it was deleted after ct was built.
      ct_venv >/dev/null
      install_tool chart-testing "$CHART_TESTING_KEY" ct build_chart_testing version
      ;;
    kubectl-validate) install_tool kubectl-validate "$KUBECTL_VALIDATE_VERSION" kubectl-validate build_kubectl_validate --help ;;
    k8s-schemas) install_k8s_schemas ;;
    prometheus-operator-crds) install_prometheus_operator_crds ;;
    gateway-api-crds) install_gateway_api_crds ;;
    kube-linter) install_tool kube-linter "$KUBE_LINTER_VERSION" kube-linter build_kube_linter version ;;
    actionlint) install_tool actionlint "$ACTIONLINT_VERSION" actionlint build_actionlint -version ;;
    prometheus) install_tool prometheus "$PROMETHEUS_VERSION" prometheus build_prometheus --version ;;
    promtool) install_tool promtool "$PROMETHEUS_VERSION" promtool build_promtool --version ;;
    opensearch) install_tool opensearch "$OPENSEARCH_VERSION-$SEARCH_NODE_DIGEST" opensearch build_opensearch --version ;;
    elasticsearch) install_tool elasticsearch "$ELASTICSEARCH_VERSION-$SEARCH_NODE_DIGEST" elasticsearch build_elasticsearch --version ;;
    kubernetes) install_tool kubernetes "$KUBERNETES_VERSION" kubectl build_kubernetes version --client ;;
    etcd) install_tool etcd "$ETCD_VERSION" etcd build_etcd --version ;;
    containerd) install_tool containerd "$CONTAINERD_VERSION" containerd build_containerd --version ;;
    coredns) install_tool coredns "$COREDNS_VERSION" coredns build_coredns -version ;;
    kube-router) install_tool kube-router "$KUBE_ROUTER_VERSION" kube-router build_kube_router --version ;;
    local-path-provisioner) install_tool local-path-provisioner "$LOCAL_PATH_PROVISIONER_VERSION" local-path-provisioner build_local_path_provisioner --version ;;
    *) die "unknown tool '$1' (expected one of: ${ALL_TOOLS[*]} ${CLUSTER_TOOLS[*]} all cluster)" ;;
  esac
}

cold_warning() {
  if [[ ! -x $CACHE_ROOT/otelcol-$OTELCOL_KEY/bin/otelcol-tracebridge ]]; then
    log "note: a cold build of the collector takes many minutes (about 9 on 2 cores, plus module downloads), up to 6 GiB of memory and several GiB of build cache"
  fi
}

main() {
  [[ $# -eq 1 ]] || die "usage: $0 ${ALL_TOOLS[*]} ${CLUSTER_TOOLS[*]}|all|cluster"
  command -v go >/dev/null || die "go is not on PATH"
  case $1 in
    all)
      cold_warning
      for tool in "${ALL_TOOLS[@]}" "${CLUSTER_TOOLS[@]}"; do build_one "$tool"; done
      ;;
    cluster)
      for tool in "${CLUSTER_TOOLS[@]}"; do build_one "$tool"; done
      ;;
    otelcol) cold_warning; build_one otelcol ;;
    *) build_one "$1" ;;
  esac
}

main "$@"
