#!/usr/bin/env bash
# Builds a stand-in for `node:24-bookworm-slim` (with the host's Node.js, 20 here) in buildah's local storage, for machines with no
# registry access (this workplace and its CI). The stand-in is Debian bookworm (debootstrap, minbase)
# plus the host's own `node` and `npm`, a `node` user (uid/gid 1000, as in the official image) and the
# host's CA bundle with NODE_EXTRA_CA_CERTS pointing at it, because outbound TLS here passes through
# an inspecting proxy and `npm ci` inside a build would otherwise fail with SELF_SIGNED_CERT_IN_CHAIN.
#
# Real base images need none of this: it lives only here, never in a Dockerfile.
# Usage: scripts/images/standin-base.sh [image-name]   (idempotent: an existing image is kept)
set -euo pipefail

IMAGE="${1:-docker.io/library/node:24-bookworm-slim}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"

if buildah inspect --type image "$IMAGE" >/dev/null 2>&1; then
  echo "standin-base: $IMAGE already present; keeping it"
  exit 0
fi
for tool in buildah debootstrap node; do
  command -v "$tool" >/dev/null || { echo "standin-base: '$tool' is missing (apt-get install -y buildah debootstrap)" >&2; exit 1; }
done
[ -r "$CA_BUNDLE" ] || { echo "standin-base: CA bundle $CA_BUNDLE not readable (apt-get install -y ca-certificates)" >&2; exit 1; }

work="$(mktemp -d /var/tmp/standin-base.XXXXXX)"
ctr=''
cleanup() {
  [ -n "$ctr" ] && buildah rm "$ctr" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "standin-base: debootstrap bookworm (minbase) from $MIRROR"
debootstrap --variant=minbase bookworm "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
rootfs="$work/rootfs"
# Trim what a slim image does not ship: package caches, lists, docs and man pages.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*

# Node and npm where the official image has them.
node_bin="$(readlink -f "$(command -v node)")"
npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
install -D -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules"
cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

# The machine's CA bundle (includes the inspecting proxy's root).
install -D -m 0644 "$CA_BUNDLE" "$rootfs/etc/ssl/certs/ca-certificates.crt"

# The official image's unprivileged user.
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

ctr="$(buildah from scratch)"
mnt="$(buildah mount "$ctr")"
cp -a "$rootfs"/. "$mnt"/
buildah umount "$ctr" >/dev/null
buildah config \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_VERSION="$(node --version | tr -d v)" \
  --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
  --label platform.stand-in=true \
  --cmd node \
  "$ctr"
buildah commit --quiet "$ctr" "$IMAGE" >/dev/null
echo "standin-base: committed $IMAGE ($(buildah inspect --type image --format '{{.FromImageID}}' "$IMAGE" 2>/dev/null | cut -c1-12))"
