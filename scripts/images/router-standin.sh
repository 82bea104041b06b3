#!/usr/bin/env bash
# Builds a stand-in for the log router's base (aws-for-fluent-bit 2.34, which runs Fluent Bit 1.9.10)
# in buildah's local storage, for machines with no registry access (this workplace and its CI): the
# node stand-in (standin-base.sh) plus the real Fluent Bit 1.9.10 built for the tests (scripts/fluent-bit, README there) and,
# at /fluent-bit/etc/fluent-bit.conf, the main config FireLens generates on ECS (its forward and health
# inputs, @INCLUDE of the task's config). A digest-pinned FROM cannot name a local image, so
# images:verify passes this one as the FLUENT_BIT_IMAGE build argument. Lives only here.
# Usage: scripts/images/router-standin.sh IMAGE BASE   (idempotent: an existing image is kept)
set -euo pipefail
IMAGE="$1"
BASE="$2"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TOOLS="${FLUENT_BIT_TOOLS:-$ROOT/scripts/fluent-bit}"

if buildah inspect --type image "$IMAGE" >/dev/null 2>&1; then
  echo "router-standin: $IMAGE already present; keeping it"
  exit 0
fi
[ -x "$TOOLS/bin/fluent-bit" ] || { echo "router-standin: no Fluent Bit at $TOOLS/bin/fluent-bit" >&2; exit 1; }
ctr="$(buildah from --pull=never --quiet "$BASE")"
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
mnt="$(buildah mount "$ctr")"
mkdir -p "$mnt/fluent-bit/bin" "$mnt/fluent-bit/etc"
cp "$TOOLS/bin/fluent-bit" "$mnt/fluent-bit/bin/fluent-bit"
for lib in libssl.so.3 libcrypto.so.3; do
  [ -e "$mnt/usr/lib/x86_64-linux-gnu/$lib" ] || cp "/usr/lib/x86_64-linux-gnu/$lib" "$mnt/usr/lib/x86_64-linux-gnu/$lib"
done
sed "s|CUSTOM_CONF_PATH|/fluent-bit/etc/anomaly-sidecar.conf|" "$TOOLS/firelens-main.conf" > "$mnt/fluent-bit/etc/fluent-bit.conf"
buildah config --user root --entrypoint '["/fluent-bit/bin/fluent-bit","-c","/fluent-bit/etc/fluent-bit.conf"]' --cmd '[]' "$ctr"
buildah commit --quiet "$ctr" "$IMAGE" >/dev/null
echo "router-standin: $IMAGE built"
