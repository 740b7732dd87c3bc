#!/usr/bin/env bash
# Starts the OpenSearch node that collector/build-tools.sh assembled from Maven Central
# (installed as <home>/bin/opensearch), in the foreground, as the upstream bin/opensearch does:
#
#   opensearch -Epath.data=DIR -Ehttp.port=9200 [-Esetting=value ...]
#   opensearch --version
#
# The JVM is $OPENSEARCH_JAVA_HOME, else $JAVA_HOME, else `java` on PATH (OpenSearch 2.x runs
# on Java 11-23: it installs a security manager, which Java 24 refused). OPENSEARCH_JAVA_OPTS
# is added after the defaults (e.g. -Xmx1g).
#
# OpenSearch refuses to run as root. As root this runs it as the system user
# $OPENSEARCH_USER (default opensearch, created when missing), as the PostgreSQL of `make dev`
# does: the directories named by -Epath.data= and -Epath.logs= are created and handed to that
# user, and when the user cannot read this home (root's 0700 home holds the cache), it runs a
# copy under /var/tmp/tracebridge/, made once per build.
set -euo pipefail

home=$(cd "$(dirname "$0")/.." && pwd)
java=${OPENSEARCH_JAVA_HOME:-${JAVA_HOME:-}}
java=${java:+$java/bin/}java

run() {
  local home=$1
  shift
  # The upstream distribution's config/jvm.options and its launcher's system options
  # (SystemJvmOptions), as far as a node on Java 17 needs them. The security manager is
  # OpenSearch's own sandbox for modules (plugin-security.policy).
  # shellcheck disable=SC2086 # OPENSEARCH_JAVA_OPTS is a list of options
  exec "${prefix[@]}" "$java" -Xms512m -Xmx512m -Xss1m -XX:+UseG1GC -XX:G1ReservePercent=25 -XX:InitiatingHeapOccupancyPercent=30 \
    -XX:-OmitStackTraceInFastThrow -XX:+ShowCodeDetailsInExceptionMessages \
    -Djava.security.manager=allow -Djava.awt.headless=true -Dfile.encoding=UTF-8 -Djna.nosys=true \
    -Djava.locale.providers=SPI,COMPAT \
    -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true -Dio.netty.recycler.maxCapacityPerThread=0 \
    -Dio.netty.allocator.numDirectArenas=0 \
    -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true -Dlog4j2.formatMsgNoLookups=true \
    ${OPENSEARCH_JAVA_OPTS:-} \
    -Dopensearch.path.home="$home" -Dopensearch.path.conf="$home/config" \
    -Dopensearch.distribution.type=tar -Dopensearch.bundled_jdk=false \
    -cp "$home/lib/*" org.opensearch.bootstrap.OpenSearch "$@"
}

prefix=()
if [[ ${1:-} == --version || ${1:-} == -V || $(id -u) != 0 ]]; then run "$home" "$@"; fi

user=${OPENSEARCH_USER:-opensearch}
PATH=$PATH:/usr/sbin:/sbin  # useradd
if ! id -u "$user" >/dev/null 2>&1; then
  useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$user" \
    || { echo "opensearch: cannot run as root, and creating the user '$user' failed" >&2; exit 1; }
fi
as_user() { setpriv --reuid="$user" --regid="$user" --init-groups "$@"; }

if ! as_user test -r "$home/lib/opensearch-$(cat "$home/VERSION").jar"; then
  shared=/var/tmp/tracebridge/$(basename "$home")
  if [[ ! -e $shared/VERSION ]]; then
    mkdir -p /var/tmp/tracebridge
    chmod 755 /var/tmp/tracebridge
    tmp=$(mktemp -d "$shared.XXXXXX")
    cp -R "$home/." "$tmp/"
    chmod -R go+rX "$tmp"
    chmod 755 "$tmp"
    mv -T "$tmp" "$shared" 2>/dev/null || rm -rf "$tmp"  # another start won the race
  fi
  home=$shared
fi

for arg in "$@"; do
  case $arg in
    -Epath.data=* | -Epath.logs=*)
      dir=${arg#*=}
      mkdir -p "$dir"
      chown -R "$user:$user" "$dir"
      as_user test -w "$dir" || { echo "opensearch: $dir is not reachable for the user '$user' (a parent directory is private)" >&2; exit 1; }
      ;;
  esac
done
prefix=(setpriv --reuid="$user" --regid="$user" --init-groups)
run "$home" "$@"
