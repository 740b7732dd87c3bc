# shellcheck shell=bash
# Configuration files of the local cluster's components, written into $ETC_DIR on every
# cluster-up from env.sh's facts.

write_configs() {
  mkdir -p "$ETC_DIR/cni/net.d" "$DATA_DIR" "$RUN_DIR" "$LOG_DIR/pods"

  # Only the keys that differ from containerd's defaults. restrict_oom_score_adj: root here
  # lacks CAP_SYS_RESOURCE, so the negative oom_score_adj the kubelet asks for the pause
  # container fails in runc (kubernetes-here.md, blocker 2); clamped instead.
  cat >"$ETC_DIR/containerd.toml" <<EOF
version = 3
root = '$DATA_DIR/containerd'
state = '$RUN_DIR/containerd'

[grpc]
  address = '$CONTAINERD_SOCKET'

[plugins]
  [plugins.'io.containerd.cri.v1.images']
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = '$(image_ref pause)'

  [plugins.'io.containerd.cri.v1.runtime']
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = 'io.containerd.runc.v2'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = '$(command -v runc)'
        Root = '$RUN_DIR/runc'
        SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ['/usr/lib/cni']
      conf_dir = '$ETC_DIR/cni/net.d'

  [plugins.'io.containerd.grpc.v1.cri']
    stream_server_address = '127.0.0.1'

  [plugins.'io.containerd.internal.v1.opt']
    path = '$DATA_DIR/containerd-opt'

  [plugins.'io.containerd.nri.v1.nri']
    disable = true
EOF

  # No masquerade (ipMasq false): pod traffic keeps its source address and the egress guard
  # stops anything bound off the machine.
  cat >"$ETC_DIR/cni/net.d/10-tracebridge.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "$CLUSTER_NAME",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$DATA_DIR/cni/networks",
        "ranges": [[{"subnet": "$NODE_POD_CIDR", "gateway": "$POD_GATEWAY"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF

  # Pods resolve cluster names only: CoreDNS forwards nothing off the machine.
  : >"$ETC_DIR/resolv.conf"

  cat >"$ETC_DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI_DIR/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $PKI_DIR/kubelet.crt
tlsPrivateKeyFile: $PKI_DIR/kubelet.key
containerRuntimeEndpoint: unix://$CONTAINERD_SOCKET
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
clusterDNS: [$DNS_SERVICE_IP]
clusterDomain: $CLUSTER_DOMAIN
resolvConf: $ETC_DIR/resolv.conf
volumePluginDir: $DATA_DIR/kubelet-plugins
podLogsDir: $LOG_DIR/pods
serializeImagePulls: false
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
EOF

  # conntrack 0s and maxPerCore 0: leave the host's conntrack sysctls alone;
  # localhostNodePorts false: do not set route_localnet.
  cat >"$ETC_DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $PKI_DIR/proxy.kubeconfig}
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: [$NODE_IP/32]
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {localhostNodePorts: false}
EOF
}
