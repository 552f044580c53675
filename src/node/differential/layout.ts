// The memory layout every generated program reports its state through. The program gets
// r1 = this memory (an array map value in the kernel, bpfbed-kbatch.c; a 'mem' region in
// bpfbed, src/vm/exec.ts) and r2 = its length, and its epilogue stores every register and every
// stack slot it used here, so comparing the memory after the run compares all of them.
//
//   [REGS_OFF, +80)     r0..r9 at exit, 8 bytes each, little-endian
//   [STACK_OFF, +64)    the main function's STACK_SLOTS data slots, slot k = r10 - SLOT_BASE - 8k
//   [DATA_OFF, +64)     random bytes the program loads, stores and runs atomics on ("map traffic")

export const REG_COUNT = 10;
export const REGS_OFF = 0;
export const STACK_SLOTS = 8;
export const STACK_OFF = REGS_OFF + 8 * REG_COUNT;
export const DATA_OFF = STACK_OFF + 8 * STACK_SLOTS;
export const DATA_LEN = 64;
export const MEM_LEN = DATA_OFF + DATA_LEN;

/** r10 - 8 holds the memory pointer for the whole run (spilled by the prologue). */
export const PTR_SLOT = -8;
/** r10 - 16: scratch for the epilogue (r0 while r0 holds the pointer). Not compared. */
export const SCRATCH_SLOT = -16;
/** Data slot k is the 8 bytes at r10 + slotOffset(k). */
export const SLOT_BASE = 24;
export const slotOffset = (k: number): number => -SLOT_BASE - 8 * k;

/** Stack slots a subprogram uses in its own frame: r10 - 8 .. r10 - 8 * SUB_SLOTS. */
export const SUB_SLOTS = 4;
