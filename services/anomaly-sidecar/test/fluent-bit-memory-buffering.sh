#!/bin/sh
# TEST-ONLY. Runs a Fluent Bit build that lacks the storage backlog input (the shared 1.9.10 build,
# ../shared/tools/fluent-bit, exits with "cannot init storage backlog input plugin" on any storage.path)
# on the router's configs with filesystem buffering removed: every `storage.*` key of the -c config and
# of the files it @INCLUDEs (one level, inlined) is dropped, so the inputs buffer in memory. The shipped
# config keeps filesystem buffering (what aws-for-fluent-bit runs on AWS); this exists for the test
# harness and the router stand-in of images:verify only, and says so on stderr every time it runs.
#
#   fluent-bit-memory-buffering.sh REAL_FLUENT_BIT [fluent-bit arguments with -c CONFIG]
# The rewritten config is CONFIG without its .conf, plus .memory.conf, beside it. Fluent Bit replaces this
# shell (exec): the process id is Fluent Bit's.
set -eu
real="$1"
shift
conf=""
prev=""
for arg in "$@"; do
  [ "$prev" = "-c" ] && conf="$arg"
  prev="$arg"
done
[ -n "$conf" ] || { echo "fluent-bit-memory-buffering.sh: no -c CONFIG among the arguments" >&2; exit 2; }
memory="${conf%.conf}.memory.conf"
awk '
  function kept(line,   key) {
    key = line
    sub(/^[ \t]+/, "", key)
    sub(/[ \t].*$/, "", key)
    return tolower(key) !~ /^storage\./
  }
  toupper($1) == "@INCLUDE" {
    path = $2
    while ((getline included < path) > 0) if (kept(included)) print included
    close(path)
    next
  }
  kept($0) { print }
' "$conf" > "$memory"
echo "!!! TEST-ONLY DIFFERENCE: $real has no storage backlog input; running $conf with every storage.* key removed (memory buffering) as $memory !!!" >&2
count=$#
prev=""
for arg in "$@"; do
  if [ "$prev" = "-c" ]; then set -- "$@" "$memory"; else set -- "$@" "$arg"; fi
  prev="$arg"
done
shift "$count"
exec "$real" "$@"
