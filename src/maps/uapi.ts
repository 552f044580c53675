// Flags of BPF_MAP_UPDATE_ELEM / bpf_map_update_elem and of map creation, by their uapi names
// (include/uapi/linux/bpf.h). Map type numbers come from the loader's uapi table.

export { BPF_MAP_TYPE, mapTypeName } from '../loader/uapi.js';

/** Update flags (enum in include/uapi/linux/bpf.h). */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
export const BPF_F_LOCK = 4;

/** Map creation flags. */
export const BPF_F_NO_PREALLOC = 1 << 0;
export const BPF_F_NO_COMMON_LRU = 1 << 1;
export const BPF_F_RDONLY = 1 << 3;
export const BPF_F_WRONLY = 1 << 4;
export const BPF_F_ZERO_SEED = 1 << 6;
export const BPF_F_RDONLY_PROG = 1 << 7;
export const BPF_F_WRONLY_PROG = 1 << 8;
export const BPF_F_MMAPABLE = 1 << 10;
export const BPF_F_INNER_MAP = 1 << 12;

/** perf_event_output flags (include/uapi/linux/bpf.h). */
export const BPF_F_INDEX_MASK = 0xffff_ffffn;
export const BPF_F_CURRENT_CPU = BPF_F_INDEX_MASK;
export const BPF_F_CTXLEN_MASK = 0xf_ffffn << 32n;

/** Ring buffer flags and bpf_ringbuf_query selectors. */
export const BPF_RB_NO_WAKEUP = 1;
export const BPF_RB_FORCE_WAKEUP = 2;
export const BPF_RB_AVAIL_DATA = 0;
export const BPF_RB_RING_SIZE = 1;
export const BPF_RB_CONS_POS = 2;
export const BPF_RB_PROD_POS = 3;

/** Every value the syscall copies is round_up(value_size, 8) per CPU (kernel/bpf/syscall.c). */
export function round8(n: number): number {
  return (n + 7) & ~7;
}
