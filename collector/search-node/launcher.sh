#!/usr/bin/env bash
# Starts the OpenSearch or Elasticsearch node that collector/build-tools.sh assembled from Maven
# Central (installed as <home>/bin/opensearch or <home>/bin/elasticsearch; <home>/DISTRIBUTION
# says which), in the foreground, as the upstream bin/opensearch or bin/elasticsearch does:
#
#   opensearch -Epath.data=DIR -Epath.logs=DIR -Ehttp.port=9200 [-Esetting=value ...]
#   opensearch --version
#
# The JVM is $JAVA_HOME, else `java` on PATH (these versions run on Java 17; they install a
# security manager, which Java 24 refuses). OPENSEARCH_JAVA_OPTS or ES_JAVA_OPTS is added after
# the defaults (e.g. -Xmx1g).
#
# Both refuse to run as root. As root this runs the node as the system user named after the
# distribution (opensearch or elasticsearch, created when missing, as the upstream packages and
# the PostgreSQL of `make dev` do): the directories named by -Epath.data= and -Epath.logs= are
# created and handed to that user, and when the user cannot read this home (root's 0700 home
# holds the cache), it runs a copy under /var/tmp/tracebridge/, made once per build.
set -euo pipefail

home=$(cd "$(dirname "$0")/.." && pwd)
read -r distribution version <"$home/DISTRIBUTION"
case $distribution in
  opensearch) prop=opensearch main=org.opensearch.bootstrap.OpenSearch opts=${OPENSEARCH_JAVA_OPTS:-} ;;
  elasticsearch) prop=es main=org.elasticsearch.bootstrap.Elasticsearch opts=${ES_JAVA_OPTS:-} ;;
  *) echo "$0: unknown distribution '$distribution' in $home/DISTRIBUTION" >&2; exit 1 ;;
esac
java=${JAVA_HOME:+$JAVA_HOME/bin/}java

run() {
  local home=$1
  shift
  # The upstream distribution's config/jvm.options and its launcher's system options
  # (SystemJvmOptions), as far as a node on Java 17 needs them: without the log4j and netty
  # ones, SIGTERM runs into AccessControlExceptions and the node takes 31 s to exit. The
  # security manager is the node's own sandbox for modules (plugin-security.policy).
  # LIBFFI_TMPDIR: where JNA's libffi may write (Elasticsearch refuses to start without it).
  # shellcheck disable=SC2086 # opts is a list of options
  LIBFFI_TMPDIR=${TMPDIR:-/tmp} exec "${prefix[@]}" "$java" -Xms512m -Xmx512m -Xss1m \
    -XX:+UseG1GC -XX:G1ReservePercent=25 -XX:InitiatingHeapOccupancyPercent=30 \
    -XX:-OmitStackTraceInFastThrow -XX:+ShowCodeDetailsInExceptionMessages \
    -Djava.security.manager=allow -Djava.awt.headless=true -Dfile.encoding=UTF-8 -Djna.nosys=true \
    -Djava.locale.providers=SPI,COMPAT \
    -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true -Dio.netty.recycler.maxCapacityPerThread=0 \
    -Dio.netty.allocator.numDirectArenas=0 \
    -Dlog4j.shutdownHookEnabled=false -Dlog4j2.disable.jmx=true -Dlog4j2.formatMsgNoLookups=true \
    $opts \
    -D$prop.path.home="$home" -D$prop.path.conf="$home/config" \
    -D$prop.distribution.type=tar -D$prop.distribution.flavor=default -D$prop.bundled_jdk=false \
    -cp "$home/lib/*" "$main" "$@"
}

prefix=()
if [[ ${1:-} == --version || ${1:-} == -V || $(id -u) != 0 ]]; then run "$home" "$@"; fi

user=$distribution
PATH=$PATH:/usr/sbin:/sbin  # useradd
if ! id -u "$user" >/dev/null 2>&1; then
  useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$user" \
    || { echo "$distribution: cannot run as root, and creating the user '$user' failed" >&2; exit 1; }
fi
as_user() { setpriv --reuid="$user" --regid="$user" --init-groups "$@"; }

if ! as_user test -r "$home/DISTRIBUTION"; then
  shared=/var/tmp/tracebridge/$(basename "$home")
  if [[ ! -e $shared/DISTRIBUTION ]]; then
    mkdir -p /var/tmp/tracebridge
    chmod 755 /var/tmp/tracebridge
    tmp=$(mktemp -d "$shared.XXXXXX")
    cp -R "$home/." "$tmp/"
    chmod -R go+rX "$tmp"
    chmod 755 "$tmp"
    mv -T "$tmp" "$shared" 2>/dev/null || rm -rf "$tmp" # another start won the race
  fi
  home=$shared
fi

for arg in "$@"; do
  case $arg in
    -Epath.data=* | -Epath.logs=*)
      dir=${arg#*=}
      mkdir -p "$dir"
      chown -R "$user:$user" "$dir"
      as_user test -w "$dir" || { echo "$distribution: $dir is not reachable for the user '$user' (a parent directory is private)" >&2; exit 1; }
      ;;
  esac
done
prefix=(setpriv --reuid="$user" --regid="$user" --init-groups)
run "$home" "$@"
