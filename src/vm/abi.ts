// The binary interface between the host (src/vm/machine.ts) and the wasm interpreter
// (assembly/index.ts): the decoded instruction record, the internal opcodes, and the layout of
// the control block. This file is compiled by both tsc and asc, so it holds nothing but integer
// constants (no types, no bigint), and both sides import it: one source of truth.

// ---- Decoded instruction record (one per 8-byte BPF slot, so indices match the kernel's) ----
// [0] u8 op (internal opcode below) [1] u8 dst*8 [2] u8 src*8 [3] u8 flags
// [4] i32 off: memory offset, or the absolute target index of a jump / pseudo call
// [8] i64 imm: sign-extended imm, or the full 64-bit constant of an lddw
export const REC_SIZE = 16;
export const REC_SHIFT = 4;
export const REC_OP = 0;
export const REC_DST = 1;
export const REC_SRC = 2;
export const REC_FLAGS = 3;
export const REC_OFF = 4;
export const REC_IMM = 8;
/** flags bit: this slot starts a function (entry, pseudo-call target, codeAddress target). */
export const FLAG_FUNC_START = 1;

// ---- Control block (at ctrlBase(), fixed size) ----
export const CB_REGS = 0; // r0..r10, u64 each
export const CB_BUDGET = 96; // i64: instructions allowed in this run
export const CB_LEFT = 104; // i64: instructions still allowed (budget - executed)
export const CB_DEPTH = 112; // i32: current call depth (0 = main frame)
export const CB_PROG = 116; // i32: current program index
export const CB_PC = 120; // i32: current instruction index (on fault: the faulting one)
export const CB_FAULT = 124; // i32: fault code (FAULT_*), 0 = none
export const CB_FAULT_ADDR = 128; // u64: virtual address of a faulting access
export const CB_FAULT_SIZE = 136; // i32: size of a faulting access
export const CB_TAIL = 140; // i32: program index of a requested tail call, -1 = none
export const CB_REGIONS = 144; // u32: pointer to the region table
export const CB_NREGIONS = 148; // u32: number of regions in the table
export const CB_PROGS = 152; // u32: pointer to the program table
export const CB_NPROGS = 156; // u32: number of programs
export const CB_LDABS_LO = 160; // u32: wasm offset of the LD_ABS packet
export const CB_LDABS_LEN = 164; // u32: its length (0 = none)
export const CB_TRACE = 168; // u32: pointer to the trace ring buffer (0 = none)
export const CB_TRACE_CAP = 172; // u32: capacity in entries
export const CB_TRACE_N = 176; // u32: entries written so far (ring index = n % cap)
export const CB_STACK_TOP = 180; // u32: wasm offset of the top of frame 0's stack
export const CB_FAULT_AUX = 184; // i32: fault detail (region index for permission faults, etc.)
export const CB_HELPER = 188; // i32: number of the helper being called (for faults)
export const CB_SIZE = 192;

// Helper kinds, one byte per helper number at helperKinds().
export const HELPERS_MAX = 1024;
export const HELPER_NONE = 0;
export const HELPER_HOST = 1;
export const HELPER_NATIVE = 2;

// Call frames: MAX_CALL_FRAMES records at frames(), FRAME_SIZE bytes each.
// [0] i32 return instruction index [4] i32 program index [16..48] r6..r9
export const FRAME_SIZE = 48;
export const MAX_FRAMES = 8; // kernel MAX_CALL_FRAMES (include/linux/bpf_verifier.h)
export const STACK_FRAME_SIZE = 512; // kernel MAX_BPF_STACK

// Region table entry (REGION_SIZE bytes): [0] u32 lo [4] u32 len [8] u32 flags [12] u32 ctx table
export const REGION_SIZE = 16;
export const REGION_READ = 1;
export const REGION_WRITE = 2;
export const REGION_CTX = 4;
// Context access table at a CTX region's table pointer, for a context of len bytes:
// [0, len) read size masks, [len, 2len) write size masks, [2len, 3len) pointer-field flags,
// then at align8(3len) one u64 shadow value per byte offset (used where the flag is set).

// Program table entry (PROG_SIZE bytes): [0] u32 code pointer [4] u32 instruction count
export const PROG_SIZE = 8;

// Trace entry: [0] i32 program [4] i32 instruction index [8] i32 frame [12] pad [16] r0..r10
export const TRACE_ENTRY_SIZE = 104;

// Run results / fault codes (CB_FAULT). 0 = the program exited normally.
export const FAULT_NONE = 0;
export const FAULT_READ_OOB = 1;
export const FAULT_WRITE_OOB = 2;
export const FAULT_CTX_READ = 3;
export const FAULT_CTX_WRITE = 4;
export const FAULT_BUDGET = 5;
export const FAULT_CALL_DEPTH = 6;
export const FAULT_HELPER = 7; // helper not registered at run time
export const FAULT_BAD_CALLX = 8;
export const FAULT_READ_DENIED = 9; // inside a region that is not readable
export const FAULT_WRITE_DENIED = 10; // inside a region that is not writable
export const FAULT_ABORTED = 11; // a host helper threw; the host holds the reason

// ---- Internal opcodes ----
// 64-bit ALU, K then X forms (K reads imm, X reads the source register).
export const ADD64_K = 1;
export const ADD64_X = 2;
export const SUB64_K = 3;
export const SUB64_X = 4;
export const MUL64_K = 5;
export const MUL64_X = 6;
export const DIV64_K = 7;
export const DIV64_X = 8;
export const SDIV64_K = 9;
export const SDIV64_X = 10;
export const MOD64_K = 11;
export const MOD64_X = 12;
export const SMOD64_K = 13;
export const SMOD64_X = 14;
export const OR64_K = 15;
export const OR64_X = 16;
export const AND64_K = 17;
export const AND64_X = 18;
export const XOR64_K = 19;
export const XOR64_X = 20;
export const LSH64_K = 21;
export const LSH64_X = 22;
export const RSH64_K = 23;
export const RSH64_X = 24;
export const ARSH64_K = 25;
export const ARSH64_X = 26;
export const MOV64_K = 27;
export const MOV64_X = 28;
export const NEG64 = 29;
export const MOVSX64_8 = 30;
export const MOVSX64_16 = 31;
export const MOVSX64_32 = 32;
// 32-bit ALU, same order.
export const ADD32_K = 33;
export const ADD32_X = 34;
export const SUB32_K = 35;
export const SUB32_X = 36;
export const MUL32_K = 37;
export const MUL32_X = 38;
export const DIV32_K = 39;
export const DIV32_X = 40;
export const SDIV32_K = 41;
export const SDIV32_X = 42;
export const MOD32_K = 43;
export const MOD32_X = 44;
export const SMOD32_K = 45;
export const SMOD32_X = 46;
export const OR32_K = 47;
export const OR32_X = 48;
export const AND32_K = 49;
export const AND32_X = 50;
export const XOR32_K = 51;
export const XOR32_X = 52;
export const LSH32_K = 53;
export const LSH32_X = 54;
export const RSH32_K = 55;
export const RSH32_X = 56;
export const ARSH32_K = 57;
export const ARSH32_X = 58;
export const MOV32_K = 59;
export const MOV32_X = 60;
export const NEG32 = 61;
export const MOVSX32_8 = 62;
export const MOVSX32_16 = 63;
// Byte order.
export const LE16 = 64;
export const LE32 = 65;
export const LE64 = 66;
export const BSWAP16 = 67;
export const BSWAP32 = 68;
export const BSWAP64 = 69;
// Jumps: JA (off and gotol both decoded to an absolute target), then conditions.
export const JA = 70;
export const JEQ64_K = 71;
export const JEQ64_X = 72;
export const JNE64_K = 73;
export const JNE64_X = 74;
export const JGT64_K = 75;
export const JGT64_X = 76;
export const JGE64_K = 77;
export const JGE64_X = 78;
export const JLT64_K = 79;
export const JLT64_X = 80;
export const JLE64_K = 81;
export const JLE64_X = 82;
export const JSGT64_K = 83;
export const JSGT64_X = 84;
export const JSGE64_K = 85;
export const JSGE64_X = 86;
export const JSLT64_K = 87;
export const JSLT64_X = 88;
export const JSLE64_K = 89;
export const JSLE64_X = 90;
export const JSET64_K = 91;
export const JSET64_X = 92;
export const JEQ32_K = 93;
export const JEQ32_X = 94;
export const JNE32_K = 95;
export const JNE32_X = 96;
export const JGT32_K = 97;
export const JGT32_X = 98;
export const JGE32_K = 99;
export const JGE32_X = 100;
export const JLT32_K = 101;
export const JLT32_X = 102;
export const JLE32_K = 103;
export const JLE32_X = 104;
export const JSGT32_K = 105;
export const JSGT32_X = 106;
export const JSGE32_K = 107;
export const JSGE32_X = 108;
export const JSLT32_K = 109;
export const JSLT32_X = 110;
export const JSLE32_K = 111;
export const JSLE32_X = 112;
export const JSET32_K = 113;
export const JSET32_X = 114;
export const CALL_HELPER = 115;
export const CALL_LOCAL = 116;
export const CALLX = 117;
export const EXIT = 118;
// Loads and stores.
export const LDDW = 119;
export const LDX_B = 120;
export const LDX_H = 121;
export const LDX_W = 122;
export const LDX_DW = 123;
export const LDXS_B = 124;
export const LDXS_H = 125;
export const LDXS_W = 126;
export const ST_B = 127;
export const ST_H = 128;
export const ST_W = 129;
export const ST_DW = 130;
export const STX_B = 131;
export const STX_H = 132;
export const STX_W = 133;
export const STX_DW = 134;
export const LDABS_B = 135;
export const LDABS_H = 136;
export const LDABS_W = 137;
export const LDIND_B = 138;
export const LDIND_H = 139;
export const LDIND_W = 140;
// Atomics: the operation is in imm (RFC 9669 §5.3), the size in the opcode.
export const ATOMIC_W = 141;
export const ATOMIC_DW = 142;
// The second slot of an lddw: never executed (jumps into it are refused at load).
export const LDDW_HI = 143;
// Superinstructions: `rA = rB; rA += rC; rX = *(size *)(rA + off)`, the array-indexing load
// clang emits in loops over a buffer. The record is the mov's; the add and the load keep their
// own records (so a jump into the middle of the group still works), and the loop reads their
// fields from the next two records. Traced runs execute them one by one.
export const IDX_LDX_B = 144;
export const IDX_LDX_H = 145;
export const IDX_LDX_W = 146;
export const IDX_LDX_DW = 147;
// `rA += imm; if rA < rB goto` and `rA += imm; if rA != rB goto`: the step and test of a loop.
export const ADDK_JLT_X = 148;
export const ADDK_JNE_X = 149;
export const OP_COUNT = 150;
