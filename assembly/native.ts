// Helpers implemented inside the VM, for hot paths that must not cross into JavaScript
// (map lookups, checksums: issue 3). The host marks a helper number as native in the helper
// kind table (abi.ts HELPER_NATIVE); the interpreter then calls nativeHelper instead of the
// host import. Each native helper reads r1..r5 from the control block and writes r0, exactly
// like a host helper does.
import * as A from '../src/vm/abi';

/** Runs native helper `id`. `ctrl` is the control block (registers at CB_REGS). */
export function nativeHelper(id: i32, ctrl: usize): void {
  switch (id) {
    default:
      // No native helper yet: r0 = -ENOSYS, never reached while the host marks none native.
      store<i64>(ctrl + A.CB_REGS, -38);
  }
}
