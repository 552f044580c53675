// Instructions as text: the llvm-objdump-syntax disassembler, the uBPF / bpf_conformance
// assembler, and the reader of bpf_conformance `.data` test files.
export { formatInsn, disassemble, hex, type FormatOptions, type DisassembleOptions } from './disasm.js';
export { assemble, AssembleError } from './assembler.js';
export { parseConformanceTest, type ConformanceTest } from './conformance.js';
export { decodeInsn, decodeInsns, encodeInsns, lddwImm64, isLddw, cloneInsn, type Insn } from './insn.js';
