// The errno values map operations return, negated as the kernel returns them
// (include/uapi/asm-generic/errno-base.h, errno.h).
export const ENOENT = 2;
export const E2BIG = 7;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const EINVAL = 22;
export const ENOSPC = 28;
export const EPERM = 1;
export const EOPNOTSUPP = 95;

/** A negative errno as the u64 a helper leaves in r0 (two's complement). */
export function errnoToU64(ret: number): bigint {
  return BigInt.asUintN(64, BigInt(ret));
}
