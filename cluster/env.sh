# shellcheck shell=bash
# The local cluster's facts, sourced by every cluster script: where its state lives, its
# addresses and its names. Everything else derives from these.
#
# Addresses: all in 198.18.0.0/15 (RFC 2544, for test networks), none in RFC 1918. The node
# address is added to the loopback interface (kernels without the dummy link type, such as
# Firecracker's, have no better home for it); pods get addresses on a bridge; nothing from a
# pod is routed off the machine (see the egress guard in host.sh).

CLUSTER_DIR="${TRACEBRIDGE_CLUSTER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tracebridge/cluster}"
CLUSTER_NAME=tracebridge
NODE_NAME=tracebridge-node
# The range every cluster address lives in; the egress guard allows pods nothing outside it.
CLUSTER_RANGE=198.18.0.0/15
NODE_IP=198.18.0.2
NODE_INTERFACE=lo
SERVICE_CIDR=198.18.16.0/20
KUBERNETES_SERVICE_IP=198.18.16.1
DNS_SERVICE_IP=198.18.16.10
POD_CIDR=198.19.0.0/16
NODE_POD_CIDR=198.19.0.0/24
POD_GATEWAY=198.19.0.1
BRIDGE=tb-cni0
CLUSTER_DOMAIN=cluster.local
APISERVER_PORT=6443
ETCD_CLIENT_PORT=2379
ETCD_PEER_PORT=2380

PKI_DIR=$CLUSTER_DIR/pki
ETC_DIR=$CLUSTER_DIR/etc
DATA_DIR=$CLUSTER_DIR/data
RUN_DIR=$CLUSTER_DIR/run
LOG_DIR=$CLUSTER_DIR/logs
PID_DIR=$RUN_DIR/pids
CONTAINERD_SOCKET=$RUN_DIR/containerd/containerd.sock
ADMIN_KUBECONFIG=$PKI_DIR/admin.kubeconfig
# Host paths the components hard-code (kubernetes-here.md, blocker 8); removed by cluster-down
# when cluster-up created them.
HOST_PATHS=(/var/lib/kubelet /var/log/containers /var/log/pods /run/containerd /var/lib/cni)
# Host settings the kubelet and the cluster change; saved by cluster-up, restored by cluster-down.
SYSCTLS=(net.ipv4.ip_forward vm.overcommit_memory kernel.panic kernel.panic_on_oops net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables)
# iptables chains and ipsets that belong to the cluster: Kubernetes' (KUBE-*), CNI's (CNI-*),
# kube-router's (KUBE-ROUTER-*, KUBE-SRC-*, KUBE-DST-*, ...) and ours.
CHAIN_PATTERN='^(KUBE-|CNI-|TRACEBRIDGE-)'
IPSET_PATTERN='^(KUBE-|kube-router-|inet6:KUBE-)'
# Processes in start order; cluster-down stops them in reverse.
COMPONENTS=(containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kube-router)

BUILD_TOOL="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/collector/build-tools.sh"
