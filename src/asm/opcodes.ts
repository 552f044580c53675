// BPF instruction set constants.
// Semantics and names: RFC 9669 (BPF Instruction Set Architecture) and the kernel's
// include/uapi/linux/bpf_common.h + include/uapi/linux/bpf.h.

// Instruction classes (RFC 9669 §3.1, the low 3 bits of the opcode).
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

export const classOf = (opcode: number): number => opcode & 0x07;

// Source bit of arithmetic and jump instructions (RFC 9669 §4).
export const BPF_K = 0x00;
export const BPF_X = 0x08;

// Arithmetic operations (RFC 9669 §4.1, the high 4 bits).
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;
export const BPF_MOV = 0xb0;
export const BPF_ARSH = 0xc0;
export const BPF_END = 0xd0;

// Byte swap direction (RFC 9669 §4.2): in BPF_ALU the source bit selects to-le / to-be,
// in BPF_ALU64 source 0 is the unconditional bswap.
export const BPF_TO_LE = 0x00;
export const BPF_TO_BE = 0x08;

// Jump operations (RFC 9669 §4.3).
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_JNE = 0x50;
export const BPF_JSGT = 0x60;
export const BPF_JSGE = 0x70;
export const BPF_CALL = 0x80;
export const BPF_EXIT = 0x90;
export const BPF_JLT = 0xa0;
export const BPF_JLE = 0xb0;
export const BPF_JSLT = 0xc0;
export const BPF_JSLE = 0xd0;

// Load/store sizes (RFC 9669 §5.1).
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_DW = 0x18;

export const sizeBytes = (opcode: number): number => [4, 2, 1, 8][(opcode >> 3) & 3];

// Load/store modes (RFC 9669 §5.1).
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_MEMSX = 0x80;
export const BPF_ATOMIC = 0xc0;

// Atomic operations, in imm (RFC 9669 §5.3).
export const BPF_FETCH = 0x01;
export const BPF_XCHG = 0xe0 | BPF_FETCH;
export const BPF_CMPXCHG = 0xf0 | BPF_FETCH;

// lddw (BPF_LD | BPF_IMM | BPF_DW) source register values (RFC 9669 §5.4, uapi bpf.h).
export const BPF_PSEUDO_MAP_FD = 1;
export const BPF_PSEUDO_MAP_VALUE = 2;
export const BPF_PSEUDO_BTF_ID = 3;
export const BPF_PSEUDO_FUNC = 4;
export const BPF_PSEUDO_MAP_IDX = 5;
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;

// call source register values (RFC 9669 §4.3.1, uapi bpf.h).
export const BPF_PSEUDO_CALL = 1;
export const BPF_PSEUDO_KFUNC_CALL = 2;

export const OP_LDDW = BPF_LD | BPF_IMM | BPF_DW; // 0x18
export const OP_CALL = BPF_JMP | BPF_CALL; // 0x85
export const OP_CALLX = BPF_JMP | BPF_CALL | BPF_X; // 0x8d
export const OP_EXIT = BPF_JMP | BPF_EXIT; // 0x95

// The kernel's limits (include/linux/bpf.h, kernel/bpf/verifier.c).
export const MAX_BPF_STACK = 512;
export const MAX_CALL_FRAMES = 8;
export const MAX_TAIL_CALL_CNT = 33;
export const BPF_REG_COUNT = 11;
export const INSN_SIZE = 8;
