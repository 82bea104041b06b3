#!/usr/bin/env bash
# Builds a stand-in for the log router's base (aws-for-fluent-bit 2.34, which runs Fluent Bit 1.9.10)
# in buildah's local storage, for machines with no registry access (this workplace and its CI): the
# node stand-in (standin-base.sh) plus a real Fluent Bit 1.9.10 (by default the shared build,
# ../shared/tools/fluent-bit) and, at /fluent-bit/etc/fluent-bit.conf, the main config FireLens generates
# on ECS (its forward and health inputs, @INCLUDE of the task's config). A digest-pinned FROM cannot
# name a local image, so images:verify passes this one as the FLUENT_BIT_IMAGE build argument. Lives
# only here.
#
# With a fourth argument (services/anomaly-sidecar/test/fluent-bit-memory-buffering.sh), for a build without the storage
# backlog input (the shared one): /fluent-bit/bin/fluent-bit is that wrapper in front of the real binary,
# so the image's own entrypoint runs unchanged and the config runs without its storage keys, announced
# on stderr. A TEST-ONLY difference of the stand-in; aws-for-fluent-bit has filesystem buffering.
# Usage: scripts/images/router-standin.sh IMAGE BASE FLUENT_BIT FIRELENS_MAIN_CONF [MEMORY_BUFFERING_WRAPPER]
#   (idempotent: an existing image is kept; images:verify names the image after its inputs)
set -euo pipefail
IMAGE="$1"
BASE="$2"
FLUENT_BIT="$3"
MAIN_CONF="$4"
WRAPPER="${5:-}"

if buildah inspect --type image "$IMAGE" >/dev/null 2>&1; then
  echo "router-standin: $IMAGE already present; keeping it"
  exit 0
fi
[ -x "$FLUENT_BIT" ] || { echo "router-standin: no Fluent Bit at $FLUENT_BIT" >&2; exit 1; }
ctr="$(buildah from --pull=never --quiet "$BASE")"
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
mnt="$(buildah mount "$ctr")"
mkdir -p "$mnt/fluent-bit/bin" "$mnt/fluent-bit/etc"
if [ -n "$WRAPPER" ]; then
  cp "$FLUENT_BIT" "$mnt/fluent-bit/bin/fluent-bit-1.9.10"
  install -m 0755 "$WRAPPER" "$mnt/fluent-bit/memory-buffering.sh"
  printf '#!/bin/sh\nexec /bin/sh /fluent-bit/memory-buffering.sh /fluent-bit/bin/fluent-bit-1.9.10 "$@"\n' \
    > "$mnt/fluent-bit/bin/fluent-bit"
  chmod 0755 "$mnt/fluent-bit/bin/fluent-bit"
  echo "router-standin: !!! TEST-ONLY: $FLUENT_BIT has no storage backlog input; the stand-in runs the router config without its storage keys !!!"
else
  cp "$FLUENT_BIT" "$mnt/fluent-bit/bin/fluent-bit"
fi
for lib in libssl.so.3 libcrypto.so.3; do
  [ -e "$mnt/usr/lib/x86_64-linux-gnu/$lib" ] || cp "/usr/lib/x86_64-linux-gnu/$lib" "$mnt/usr/lib/x86_64-linux-gnu/$lib"
done
sed "s|CUSTOM_CONF_PATH|/fluent-bit/etc/anomaly-sidecar.conf|" "$MAIN_CONF" > "$mnt/fluent-bit/etc/fluent-bit.conf"
buildah config --user root --entrypoint '["/fluent-bit/bin/fluent-bit","-c","/fluent-bit/etc/fluent-bit.conf"]' --cmd '[]' "$ctr"
buildah commit --quiet "$ctr" "$IMAGE" >/dev/null
echo "router-standin: $IMAGE built"
