#!/bin/sh
# FireLens generates the router's [INPUT] sections (forward on /var/run/fluent.sock and on TCP 24224)
# without Mem_Buf_Limit, so an output that stalls (CloudWatch throttling, a dead sidecar) lets the
# buffered chunks grow until the container is killed. This adds the bound to every forward input of the
# generated config and starts Fluent Bit on the result: at the bound the input pauses, and the Docker log
# driver holds (or, in non-blocking mode, drops) lines instead of the router dying.
#
#   bound-inputs.sh [generated.conf] [bounded.conf] [-- fluent-bit command…]
# FLB_MEM_BUF_LIMIT sets the bound (default 16M). Without a command after `--`, only the file is written.
set -eu
in="${1:-/fluent-bit/etc/fluent-bit.conf}"
out="${2:-/tmp/fluent-bit.conf}"
limit="${FLB_MEM_BUF_LIMIT:-16M}"
awk -v limit="$limit" '
  /^\[/ { section = toupper($0) }
  { print }
  section == "[INPUT]" && tolower($1) == "name" && tolower($2) == "forward" { print "    Mem_Buf_Limit " limit }
' "$in" > "$out"
[ "$#" -ge 2 ] && shift 2 || shift "$#"
[ "${1:-}" = "--" ] && shift
if [ "$#" -gt 0 ]; then exec "$@" -c "$out"; fi
