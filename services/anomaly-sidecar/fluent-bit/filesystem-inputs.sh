#!/bin/sh
# FireLens generates the router's [INPUT] sections (forward on /var/run/fluent.sock and on TCP 24224)
# with memory buffering: at 100k lines/s, or while an output is slow, a memory input either grows until
# the container is killed or, bounded with Mem_Buf_Limit, pauses, and the log driver drops what it
# cannot hand over (issue 25: half the lines at 100k lines/s). This gives every forward input of the
# generated config `storage.type filesystem` (the [SERVICE] of the task's config sets storage.path and
# storage.max_chunks_up, the memory bound) and starts Fluent Bit on the result: an input never pauses,
# a slow output only lengthens its own queue of chunks on disk.
#
#   filesystem-inputs.sh [generated.conf] [buffered.conf] [-- fluent-bit command…]
# Without a command after `--`, only the file is written.
set -eu
in="${1:-/fluent-bit/etc/fluent-bit.conf}"
out="${2:-/tmp/fluent-bit.conf}"
awk '
  /^\[/ { section = toupper($0) }
  { print }
  section == "[INPUT]" && tolower($1) == "name" && tolower($2) == "forward" { print "    storage.type filesystem" }
' "$in" > "$out"
[ "$#" -ge 2 ] && shift 2 || shift "$#"
[ "${1:-}" = "--" ] && shift
if [ "$#" -gt 0 ]; then exec "$@" -c "$out"; fi
