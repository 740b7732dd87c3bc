#!/usr/bin/env bash
# A single-node Kubernetes of local processes, no Docker and no registry:
#
#   cluster/cluster.sh up|down|status|kubeconfig|images|prereqs   (make cluster-up, cluster-down, ...)
#
# containerd + runc, etcd (TLS, loopback), kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet, kube-proxy (iptables), kube-router (NetworkPolicy firewall only),
# CoreDNS and local-path-provisioner, all built by `make tools` (collector/build-tools.sh
# cluster). Each process runs under a restarting supervisor of its own (setsid, one process
# group) whose pid is in $PID_DIR. State, certificates and logs live under $CLUSTER_DIR;
# cluster-down removes every trace from the host (processes, mounts, iptables chains, ipsets,
# interfaces, cgroups, sysctls, host directories). Facts, blockers and fixes this follows:
# cluster/README.md.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=cluster/env.sh
source "$HERE/env.sh"
# shellcheck source=cluster/pki.sh
source "$HERE/pki.sh"
# shellcheck source=cluster/config.sh
source "$HERE/config.sh"
# shellcheck source=cluster/host.sh
source "$HERE/host.sh"

say() { printf '[cluster] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# The Debian packages the node needs on the host (runc, CNI plugins, iptables, ipset, ...) and
# the image builds take from it (busybox-static, gcc for the pause program).
HOST_PACKAGES=(runc containernetworking-plugins iptables ipset conntrack socat busybox-static gcc libc6-dev)
need_host_packages() {
  local missing=() p
  for p in "${HOST_PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  say "installing host packages: ${missing[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2 \
    || die "could not install ${missing[*]}: install them with apt-get and retry"
}

tool() { bash "$BUILD_TOOL" "$1"; }

# Binaries of every component (built on first use: a cold build takes about 35 min).
resolve_tools() {
  say "tools (a cold build of the Kubernetes binaries takes about 25 min; later runs skip it)"
  K8S_BIN=$(dirname "$(tool kubernetes)")
  ETCD_BIN=$(tool etcd)
  CONTAINERD_BIN_DIR=$(dirname "$(tool containerd)")
  KUBE_ROUTER_BIN=$(tool kube-router)
  tool coredns >/dev/null
  tool local-path-provisioner >/dev/null
  KUBECTL=$K8S_BIN/kubectl
  CTR=$CONTAINERD_BIN_DIR/ctr
}

image_ref() { node "$HERE/images/build.ts" refs "$1" | cut -d= -f2-; }

# import_images [NAME...]: builds the images' OCI archives (cluster/images) and imports them
# into the cluster's containerd; every image when no name is given.
import_images() {
  [[ -S $CONTAINERD_SOCKET ]] || die "the local cluster's containerd is not running (no socket $CONTAINERD_SOCKET): run make cluster-up first"
  local archive
  for archive in $(node "$HERE/images/build.ts" build "$@"); do
    "$CTR" --address "$CONTAINERD_SOCKET" --namespace k8s.io images import "$archive" >/dev/null
    say "imported $(basename "$archive" .tar)"
  done
}

kubectl_admin() { "$KUBECTL" --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }

# supervise NAME COMMAND...: runs COMMAND again whenever it exits, in a session of its own.
supervise() {
  local name=$1
  shift
  # shellcheck disable=SC2016 # expanded by the supervisor's shell
  setsid bash -c 'name=$1; shift
    trap '\''kill -TERM "$child" 2>/dev/null; wait "$child"; exit 0'\'' TERM INT
    while :; do
      "$@" & child=$!
      wait "$child" && code=0 || code=$?
      echo "[supervisor] $name exited with $code; restarting in 2 s"
      sleep 2
    done' supervisor "$name" "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$PID_DIR/$name.pid"
}

running() { local pid; pid=$(cat "$PID_DIR/$1.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; }

# wait_for WHAT SECONDS COMMAND...: polls COMMAND until it succeeds.
wait_for() {
  local what=$1 seconds=$2 start=$SECONDS
  shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS - start < seconds)) || die "$what not ready after ${seconds}s (logs: $LOG_DIR)"
    sleep 0.5
  done
  say "$what ready ($((SECONDS - start))s)"
}

etcd_healthy() {
  curl -fsS --cacert "$PKI_DIR/etcd-ca.crt" --cert "$PKI_DIR/apiserver-etcd-client.crt" --key "$PKI_DIR/apiserver-etcd-client.key" \
    "https://127.0.0.1:$ETCD_CLIENT_PORT/health" | grep -q '"health":"true"'
}
apiserver_ready() {
  curl -fsS --cacert "$PKI_DIR/ca.crt" --cert "$PKI_DIR/admin.crt" --key "$PKI_DIR/admin.key" "https://$NODE_IP:$APISERVER_PORT/readyz" | grep -q ok
}

start_components() {
  mkdir -p "$PID_DIR" "$LOG_DIR" "$DATA_DIR/etcd" "$DATA_DIR/kubelet" "$DATA_DIR/kubelet-plugins"
  chmod 700 "$DATA_DIR/etcd"

  supervise containerd "$CONTAINERD_BIN_DIR/containerd" --config "$ETC_DIR/containerd.toml"
  wait_for containerd 30 "$CTR" --address "$CONTAINERD_SOCKET" version
  say "importing the cluster's own images (pause, coredns, local-path-provisioner, busybox)"
  import_images pause coredns local-path-provisioner busybox

  supervise etcd "$ETCD_BIN" --name "$CLUSTER_NAME" --data-dir "$DATA_DIR/etcd" \
    --listen-client-urls "https://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-client-urls "https://127.0.0.1:$ETCD_CLIENT_PORT" \
    --listen-peer-urls "https://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "https://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "$CLUSTER_NAME=https://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls http://127.0.0.1:2381 \
    --cert-file "$PKI_DIR/etcd-server.crt" --key-file "$PKI_DIR/etcd-server.key" --client-cert-auth --trusted-ca-file "$PKI_DIR/etcd-ca.crt" \
    --peer-cert-file "$PKI_DIR/etcd-server.crt" --peer-key-file "$PKI_DIR/etcd-server.key" --peer-client-cert-auth --peer-trusted-ca-file "$PKI_DIR/etcd-ca.crt"
  wait_for etcd 30 etcd_healthy

  supervise kube-apiserver "$K8S_BIN/kube-apiserver" --advertise-address "$NODE_IP" --bind-address "$NODE_IP" --secure-port "$APISERVER_PORT" \
    --etcd-servers "https://127.0.0.1:$ETCD_CLIENT_PORT" --etcd-cafile "$PKI_DIR/etcd-ca.crt" \
    --etcd-certfile "$PKI_DIR/apiserver-etcd-client.crt" --etcd-keyfile "$PKI_DIR/apiserver-etcd-client.key" \
    --client-ca-file "$PKI_DIR/ca.crt" --tls-cert-file "$PKI_DIR/apiserver.crt" --tls-private-key-file "$PKI_DIR/apiserver.key" \
    --kubelet-client-certificate "$PKI_DIR/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI_DIR/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$PKI_DIR/ca.crt" --kubelet-preferred-address-types InternalIP \
    --service-account-issuer "https://kubernetes.default.svc.$CLUSTER_DOMAIN" --service-account-key-file "$PKI_DIR/sa.pub" \
    --service-account-signing-key-file "$PKI_DIR/sa.key" --service-cluster-ip-range "$SERVICE_CIDR" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction --allow-privileged=true --profiling=false
  wait_for kube-apiserver 90 apiserver_ready

  supervise kube-controller-manager "$K8S_BIN/kube-controller-manager" --kubeconfig "$PKI_DIR/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$PKI_DIR/controller-manager.kubeconfig" --authorization-kubeconfig "$PKI_DIR/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials \
    --cluster-signing-cert-file "$PKI_DIR/ca.crt" --cluster-signing-key-file "$PKI_DIR/ca.key" --root-ca-file "$PKI_DIR/ca.crt" \
    --service-account-private-key-file "$PKI_DIR/sa.key" --allocate-node-cidrs --cluster-cidr "$POD_CIDR" --node-cidr-mask-size 24 \
    --service-cluster-ip-range "$SERVICE_CIDR" --flex-volume-plugin-dir "$DATA_DIR/kubelet-plugins" --profiling=false
  supervise kube-scheduler "$K8S_BIN/kube-scheduler" --kubeconfig "$PKI_DIR/scheduler.kubeconfig" \
    --authentication-kubeconfig "$PKI_DIR/scheduler.kubeconfig" --authorization-kubeconfig "$PKI_DIR/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --profiling=false
  supervise kubelet "$K8S_BIN/kubelet" --config "$ETC_DIR/kubelet.yaml" --kubeconfig "$PKI_DIR/kubelet.kubeconfig" \
    --root-dir "$DATA_DIR/kubelet" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP"
  supervise kube-proxy "$K8S_BIN/kube-proxy" --config "$ETC_DIR/kube-proxy.yaml"
  wait_for "node $NODE_NAME" 90 kubectl_admin wait --for=condition=Ready "node/$NODE_NAME" --timeout=1s

  kube_router_identity
  supervise kube-router "$KUBE_ROUTER_BIN" --kubeconfig "$PKI_DIR/kube-router.kubeconfig" --hostname-override "$NODE_NAME" \
    --run-firewall --run-router=false --run-service-proxy=false --enable-cni=false --enable-ipv6=false \
    --metrics-port 0 --health-port 20244
  wait_for kube-router 60 curl -fsS http://127.0.0.1:20244/healthz
}

# kube-router's own identity: a ServiceAccount with the RBAC its firewall needs, and a
# kubeconfig holding that account's token.
kube_router_identity() {
  kubectl_admin apply -f "$HERE/addons/kube-router.yaml" >/dev/null
  local token
  wait_for "kube-router token" 30 bash -c "[[ -n \$('$KUBECTL' --kubeconfig '$ADMIN_KUBECONFIG' -n kube-system get secret kube-router-token -o jsonpath='{.data.token}') ]]"
  token=$(kubectl_admin -n kube-system get secret kube-router-token -o jsonpath='{.data.token}' | base64 -d)
  write_kubeconfig "$PKI_DIR/kube-router.kubeconfig" kube-router "{token: $token}"
}

# CoreDNS and local-path-provisioner (the default StorageClass, as on kind).
install_addons() {
  local f
  for f in "$HERE"/addons/coredns.yaml "$HERE"/addons/local-path-provisioner.yaml; do
    sed -e "s|@DNS_SERVICE_IP@|$DNS_SERVICE_IP|g" -e "s|@CLUSTER_DOMAIN@|$CLUSTER_DOMAIN|g" \
      -e "s|@COREDNS_IMAGE@|$(image_ref coredns)|g" -e "s|@LOCAL_PATH_IMAGE@|$(image_ref local-path-provisioner)|g" \
      -e "s|@BUSYBOX_IMAGE@|$(image_ref busybox)|g" -e "s|@LOCAL_PATH_DIR@|$DATA_DIR/local-path|g" "$f" | kubectl_admin apply -f - >/dev/null
  done
  wait_for "default ServiceAccount" 30 kubectl_admin -n default get serviceaccount default
  wait_for CoreDNS 120 kubectl_admin -n kube-system rollout status deployment/coredns --timeout=1s
  wait_for local-path-provisioner 120 kubectl_admin -n local-path-storage rollout status deployment/local-path-provisioner --timeout=1s
}

healthy() {
  local c
  for c in "${COMPONENTS[@]}"; do running "$c" || return 1; done
  [[ -s $ADMIN_KUBECONFIG ]] && apiserver_ready 2>/dev/null
}

up() {
  [[ $(id -u) -eq 0 ]] || die "the local cluster needs root (containers, iptables, mounts)"
  need_host_packages
  resolve_tools
  if healthy; then
    say "already running; applying the add-ons"
    install_addons
  else
    say "cleaning up what an earlier cluster left"
    down_quietly
    local start=$SECONDS
    prepare_host
    make_pki
    write_configs
    start_components
    install_addons
    say "up in $((SECONDS - start))s: node $NODE_NAME ($NODE_IP), pods $POD_CIDR, services $SERVICE_CIDR"
  fi
  kubectl_admin get nodes -o wide >&2
  # The pinned kubectl and helm, for the deploy, port-forward and demo targets.
  echo "export PATH=$K8S_BIN:$(dirname "$(tool helm)"):\$PATH"
  echo "export KUBECONFIG=$ADMIN_KUBECONFIG"
}

down_quietly() {
  stop_everything
  restore_host
}

down() {
  [[ $(id -u) -eq 0 ]] || die "needs root"
  down_quietly
  say "down: no process, mount, chain, ipset, interface, cgroup or sysctl of the cluster is left (state kept in $CLUSTER_DIR)"
}

status() {
  local c state
  for c in "${COMPONENTS[@]}"; do
    if running "$c"; then state="running (pid $(cat "$PID_DIR/$c.pid"))"; else state="stopped"; fi
    printf '  %-24s %s\n' "$c" "$state"
  done
  if [[ -s $ADMIN_KUBECONFIG ]] && apiserver_ready 2>/dev/null; then
    resolve_tools 2>/dev/null
    kubectl_admin get nodes -o wide
    kubectl_admin get pods -A -o wide
    echo "export KUBECONFIG=$ADMIN_KUBECONFIG"
  else
    echo "the cluster is not running: make cluster-up"
    return 1
  fi
}

images() {
  [[ $(id -u) -eq 0 ]] || die "needs root (the cluster's containerd socket)"
  need_host_packages
  resolve_tools
  import_images
  node "$HERE/images/build.ts" refs | sed 's/^[^=]*=/  /'
}

case ${1:-} in
  prereqs) if [[ $(id -u) -eq 0 ]]; then need_host_packages; else say "not root: the local cluster's host packages are not checked"; fi ;;
  up) up ;;
  images) images ;;
  down) down ;;
  status) status ;;
  kubeconfig) echo "$ADMIN_KUBECONFIG" ;;
  *) die "usage: $0 up|down|status|kubeconfig|images|prereqs" ;;
esac
