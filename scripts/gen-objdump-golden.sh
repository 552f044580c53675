#!/usr/bin/env bash
# Writes the llvm-objdump-19 disassembly of every fixtures/obj/isa/*.o next to it, for the
# disassembler golden test (test/asm/golden.test.ts):
#   X.objdump.txt        llvm-objdump-19 -d --no-show-raw-insn          (what a plain objdump prints)
#   X.alu32.objdump.txt  the same with --mattr=+alu32 (32-bit loads, stores and atomics as wN)
#   X.raw.objdump.txt    --mattr=+alu32 with the raw instruction bytes shown
# Run after `npm run build:bpf`; both files are committed so tests never need LLVM.
set -euo pipefail
cd "$(dirname "$0")/.."
OBJDUMP=${OBJDUMP:-llvm-objdump-19}
if ! command -v "$OBJDUMP" >/dev/null; then
  echo "gen-objdump-golden: $OBJDUMP not found (apt-get install llvm-19)" >&2
  exit 1
fi
for obj in fixtures/obj/isa/*.o; do
  base=${obj%.o}
  # Drop the first two lines (a blank one, then "path:  file format elf64-bpf") so the text does
  # not depend on the path.
  "$OBJDUMP" -d --no-show-raw-insn "$obj" | tail -n +3 > "$base.objdump.txt"
  "$OBJDUMP" -d --no-show-raw-insn --mattr=+alu32 "$obj" | tail -n +3 > "$base.alu32.objdump.txt"
  "$OBJDUMP" -d --mattr=+alu32 "$obj" | tail -n +3 > "$base.raw.objdump.txt"
done
