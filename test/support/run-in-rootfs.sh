#!/usr/bin/env bash
# run-in-rootfs.sh ROOT WORKDIR UID GID [MOUNT...] -- [NAME=VALUE...] -- COMMAND [ARG...]
# Run COMMAND in an unpacked image root as a container runtime would, from inside fresh mount
# and PID namespaces (unshare --mount --pid --fork): /dev and a new /proc, each MOUNT
# ("/path=HOST_DIR", or "/path=emptyDir" for a fresh tmpfs), the root made read-only
# (readOnlyRootFilesystem), then only the given environment, the working directory, UID and
# GID (also the only supplementary group, as fsGroup). Used by test/support/image-archive.ts.
set -euo pipefail
root=$1 wd=$2 uid=$3 gid=$4
shift 4
mounts=()
while [[ $1 != -- ]]; do mounts+=("$1"); shift; done
shift
envs=()
while [[ $1 != -- ]]; do envs+=("$1"); shift; done
shift
mkdir -p "$root/dev" "$root/proc"
for m in "${mounts[@]}"; do mkdir -p "$root${m%%=*}"; done
mount --bind "$root" "$root"
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"
for m in "${mounts[@]}"; do
  target=$root${m%%=*} source=${m#*=}
  if [[ $source == emptyDir ]]; then mount -t tmpfs -o mode=0777 emptydir "$target"; else mount --bind "$source" "$target"; fi
done
mount -o remount,bind,ro "$root"
exec /usr/bin/env -i "${envs[@]}" /usr/bin/nsenter --root="$root" --wd="$root$wd" --setuid="$uid" --setgid="$gid" "$@"
