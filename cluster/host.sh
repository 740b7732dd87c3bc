# shellcheck shell=bash
# What the local cluster changes on the host, and undoing all of it.
#
# prepare_host records the host's state first ($RUN_DIR/host/): the sysctls it will change and
# which hard-coded host directories already existed. stop_everything ends every process of the
# cluster (components, shims, containers); restore_host removes mounts, cgroups, iptables chains,
# ipsets and interfaces of the cluster and puts the recorded sysctls and directories back.

HOST_STATE=$RUN_DIR/host

prepare_host() {
  mkdir -p "$HOST_STATE"
  local s d
  modprobe br_netfilter 2>/dev/null || true
  : >"$HOST_STATE/sysctl"
  for s in "${SYSCTLS[@]}"; do
    if [[ -e /proc/sys/${s//.//} ]]; then echo "$s=$(sysctl -n "$s")" >>"$HOST_STATE/sysctl"; fi
  done
  : >"$HOST_STATE/created-paths"
  for d in "${HOST_PATHS[@]}"; do if [[ ! -e $d ]]; then echo "$d" >>"$HOST_STATE/created-paths"; fi; done

  sysctl -qw net.ipv4.ip_forward=1
  if [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]]; then sysctl -qw net.bridge.bridge-nf-call-iptables=1; fi
  # replace, not add: idempotent if a stopping component of an earlier cluster put it back
  ip addr replace "$NODE_IP/32" dev "$NODE_INTERFACE"

  # The egress guard: pods reach cluster addresses only; nothing from a pod leaves the machine.
  iptables -N TRACEBRIDGE-EGRESS
  iptables -A TRACEBRIDGE-EGRESS -s "$POD_CIDR" ! -d "$CLUSTER_RANGE" -j REJECT --reject-with icmp-net-prohibited
  iptables -I FORWARD 1 -j TRACEBRIDGE-EGRESS
}

# Every pid in a cgroup of the cluster (the kubelet's kubepods tree), any controller.
pod_pids() {
  local d
  for d in /sys/fs/cgroup/*/kubepods* /sys/fs/cgroup/kubepods*; do
    if [[ -d $d ]]; then find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null; fi
  done | sort -un
}

# Shims started by this cluster's containerd (they leave its process group on start).
shim_pids() {
  local p exe
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    if [[ $exe == */containerd-shim-runc-v2 ]] && grep -qF "$RUN_DIR" "$p/cmdline" 2>/dev/null; then echo "${p#/proc/}"; fi
  done
  return 0
}

stop_supervised() {
  local name=$1 pid i
  pid=$(cat "$PID_DIR/$name.pid" 2>/dev/null) || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$PID_DIR/$name.pid"
}

stop_everything() {
  local i c pids
  # The kubelet first, so that nothing restarts the containers killed next.
  stop_supervised kubelet
  for i in 1 2 3; do
    pids=$(pod_pids)
    [[ -z $pids ]] && break
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.5
  done
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    c=${COMPONENTS[$i]}
    [[ $c == kubelet ]] || stop_supervised "$c"
  done
  pids=$(shim_pids)
  # shellcheck disable=SC2086
  [[ -z $pids ]] || kill -KILL $pids 2>/dev/null || true
}

# Mount points under the cluster's directories, deepest first.
cluster_mounts() {
  local roots=("$CLUSTER_DIR" "${HOST_PATHS[@]}") r
  awk '{print $5}' /proc/self/mountinfo | while read -r m; do
    m=$(printf '%b' "$m")
    for r in "${roots[@]}"; do if [[ $m == "$r" || $m == "$r"/* ]]; then echo "$m"; fi; done
  done | awk '{print length, $0}' | sort -rn | cut -d' ' -f2-
}

remove_cgroups() {
  local d
  for d in /sys/fs/cgroup/*/kubepods* /sys/fs/cgroup/kubepods*; do
    [[ -d $d ]] || continue
    find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

# iptables_clean iptables|ip6tables: jumps to the cluster's chains removed from every chain,
# then those chains flushed and deleted, in every table.
iptables_clean() {
  local cmd=$1 table rule chain
  command -v "$cmd" >/dev/null || return 0
  for table in filter nat mangle raw; do
    "$cmd" -t "$table" -S >/dev/null 2>&1 || continue
    while read -r rule; do
      # shellcheck disable=SC2086 # the rule's words, as iptables -S printed them
      eval "$cmd -t $table ${rule/-A /-D }" 2>/dev/null || true
    done < <("$cmd" -t "$table" -S | grep -E -- '^-A ' | grep -E -- "-j (KUBE-|CNI-|TRACEBRIDGE-)" | grep -vE "^-A (KUBE-|CNI-|TRACEBRIDGE-)")
    for chain in $("$cmd" -t "$table" -S | awk '$1 == "-N" {print $2}' | grep -E "$CHAIN_PATTERN"); do
      "$cmd" -t "$table" -F "$chain" 2>/dev/null || true
    done
    for chain in $("$cmd" -t "$table" -S | awk '$1 == "-N" {print $2}' | grep -E "$CHAIN_PATTERN"); do
      "$cmd" -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
}

restore_host() {
  local m s d link
  while read -r m; do
    if [[ -n $m ]]; then umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; fi
  done < <(cluster_mounts)
  remove_cgroups
  iptables_clean iptables
  iptables_clean ip6tables
  if command -v ipset >/dev/null; then
    for s in $(ipset list -n 2>/dev/null | grep -E "$IPSET_PATTERN"); do ipset destroy "$s" 2>/dev/null || true; done
  fi
  # veths of pods whose namespaces outlived their processes, the bridge, the node address
  for link in $(ip -o link show type veth 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
    if [[ $(cat "/sys/class/net/$link/master/uevent" 2>/dev/null) == *"INTERFACE=$BRIDGE"* ]]; then ip link del "$link"; fi
  done
  for link in "$BRIDGE" kube-dummy-if kube-bridge; do
    if ip link show "$link" >/dev/null 2>&1; then ip link del "$link"; fi
  done
  if ip -o addr show dev "$NODE_INTERFACE" | grep -qF " $NODE_IP/"; then ip addr del "$NODE_IP/32" dev "$NODE_INTERFACE"; fi
  if [[ -s $HOST_STATE/sysctl ]]; then
    while IFS= read -r s; do sysctl -qw "$s" 2>/dev/null || true; done <"$HOST_STATE/sysctl"
  fi
  if [[ -s $HOST_STATE/created-paths ]]; then
    while IFS= read -r d; do if [[ -n $d ]]; then rm -rf "$d"; fi; done <"$HOST_STATE/created-paths"
  fi
  rm -rf "$HOST_STATE" "$RUN_DIR"
}
