#!/usr/bin/env bash
# Rebuilds every BPF object from its C source: bpf/<path>.c -> fixtures/obj/<path>.o
# with Debian's clang-19 and libbpf-dev headers. Objects are committed, so tests never
# need a compiler; CI rebuilds them and fails if one differs from what is committed.
#
# A source may add flags with a line `// bpfbed-cflags: ...` (for example -mcpu=v4).
# -ffile-prefix-map keeps the build folder out of the object (DWARF and BTF paths).
# With arguments (bpf/<path>.c ...), only those sources are rebuilt, with the same flags.
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG=${CLANG:-clang-19}
if ! command -v "$CLANG" >/dev/null; then
  echo "build-bpf: $CLANG not found (apt-get install clang-19 libbpf-dev)" >&2
  exit 1
fi
ARCH_INCLUDE=/usr/include/$(uname -m)-linux-gnu
status=0
while IFS= read -r -d '' src; do
  rel=${src#bpf/}
  out=fixtures/obj/${rel%.c}.o
  mkdir -p "$(dirname "$out")"
  extra=$(sed -n 's#^// bpfbed-cflags: ##p' "$src" | head -n 1)
  # shellcheck disable=SC2086
  if ! "$CLANG" -g -O2 -target bpf -mcpu=v3 -Wall -Werror \
      -I bpf/include -I "$ARCH_INCLUDE" \
      -ffile-prefix-map="$PWD"=. \
      $extra -c "$src" -o "$out"; then
    echo "build-bpf: failed: $src" >&2
    status=1
  fi
done < <(if [ $# -gt 0 ]; then printf '%s\0' "$@"; else find bpf -name '*.c' -not -path 'bpf/include/*' -print0 | sort -z; fi)
exit $status
