# shellcheck shell=bash
# Certificates and kubeconfigs of the local cluster (openssl only), made once into $PKI_DIR and
# kept: a new cluster-up reuses them, so a kubeconfig handed out earlier stays valid.

# cert NAME CA SUBJECT [SANS] [USAGE]: NAME.key + NAME.crt signed by CA (valid 10 years).
cert() {
  local name=$1 ca=$2 subject=$3 sans=${4:-} usage=${5:-clientAuth}
  [[ -s $PKI_DIR/$name.crt ]] && return 0
  local ext="$PKI_DIR/$name.ext"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [[ -n $sans ]] && echo "subjectAltName=$sans"
  } >"$ext"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI_DIR/$name.key" 2>/dev/null
  openssl req -new -key "$PKI_DIR/$name.key" -subj "$subject" -out "$PKI_DIR/$name.csr" 2>/dev/null
  openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/$ca.crt" -CAkey "$PKI_DIR/$ca.key" -CAcreateserial \
    -days 3650 -extfile "$ext" -out "$PKI_DIR/$name.crt" 2>/dev/null
  rm -f "$PKI_DIR/$name.csr" "$ext"
}

ca() {
  local name=$1 subject=$2
  [[ -s $PKI_DIR/$name.crt ]] && return 0
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI_DIR/$name.key" 2>/dev/null
  openssl req -x509 -new -key "$PKI_DIR/$name.key" -subj "$subject" -days 3650 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$PKI_DIR/$name.crt" 2>/dev/null
}

# write_kubeconfig FILE USER CREDENTIALS: a kubeconfig (mode 0600) for USER, whose CREDENTIALS
# are the user's fields as a YAML flow mapping (a client certificate and key, or a token).
write_kubeconfig() {
  local file=$1 user=$2 credentials=$3
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: $CLUSTER_NAME
    cluster:
      server: https://$NODE_IP:$APISERVER_PORT
      certificate-authority-data: $(base64 -w0 "$PKI_DIR/ca.crt")
users:
  - name: $user
    user: $credentials
contexts:
  - name: $CLUSTER_NAME
    context: {cluster: $CLUSTER_NAME, user: $user}
current-context: $CLUSTER_NAME
EOF
  chmod 600 "$file"
}

# kubeconfig NAME USER CERT: NAME.kubeconfig for USER authenticating with CERT.{crt,key}.
kubeconfig() {
  write_kubeconfig "$PKI_DIR/$1.kubeconfig" "$2" \
    "{client-certificate-data: $(base64 -w0 "$PKI_DIR/$3.crt"), client-key-data: $(base64 -w0 "$PKI_DIR/$3.key")}"
}

make_pki() {
  mkdir -p "$PKI_DIR"
  chmod 700 "$PKI_DIR"
  ca ca "/CN=tracebridge-local-ca"
  ca etcd-ca "/CN=tracebridge-local-etcd-ca"
  if [[ ! -s $PKI_DIR/sa.key ]]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI_DIR/sa.key" 2>/dev/null
    openssl pkey -in "$PKI_DIR/sa.key" -pubout -out "$PKI_DIR/sa.pub" 2>/dev/null
  fi
  cert etcd-server etcd-ca "/CN=etcd" "IP:127.0.0.1,DNS:localhost" "serverAuth,clientAuth"
  cert apiserver-etcd-client etcd-ca "/CN=kube-apiserver-etcd-client"
  cert apiserver ca "/CN=kube-apiserver" \
    "IP:$NODE_IP,IP:$KUBERNETES_SERVICE_IP,IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN" \
    serverAuth
  cert apiserver-kubelet-client ca "/O=system:masters/CN=kube-apiserver-kubelet-client"
  cert kubelet ca "/CN=$NODE_NAME" "IP:$NODE_IP,DNS:$NODE_NAME" serverAuth
  cert kubelet-client ca "/O=system:nodes/CN=system:node:$NODE_NAME"
  cert admin ca "/O=system:masters/CN=tracebridge-admin"
  cert controller-manager ca "/CN=system:kube-controller-manager"
  cert scheduler ca "/CN=system:kube-scheduler"
  cert proxy ca "/CN=system:kube-proxy"
  kubeconfig admin tracebridge-admin admin
  kubeconfig controller-manager system:kube-controller-manager controller-manager
  kubeconfig scheduler system:kube-scheduler scheduler
  kubeconfig proxy system:kube-proxy proxy
  kubeconfig kubelet "system:node:$NODE_NAME" kubelet-client
}
