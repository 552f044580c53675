// Linking a loaded program to live maps: every lddw whose source names a map or a global
// resolves to the constant the kernel's verifier would have put there (resolve_pseudo_ldimm64 in
// kernel/bpf/verifier.c): the map's address for BPF_PSEUDO_MAP_IDX / _FD, the address of the
// value plus the offset for BPF_PSEUDO_MAP_IDX_VALUE / _VALUE. Function addresses
// (BPF_PSEUDO_FUNC) are left for the Machine, which alone knows where code lives.
import type { Insn } from '../asm/insn.js';
import {
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE,
  OP_LDDW,
} from '../asm/opcodes.js';
import type { ProgramSpec } from '../loader/spec.js';

export interface LinkTarget {
  /** The opaque map pointer of map number `index` (the spec's map order). */
  mapHandle(index: number): bigint | undefined;
  /** BPF address of the single value of array map `index` (global data), if it has one. */
  mapValueAddress(index: number): bigint | undefined;
  mapName(index: number): string;
}

export class LinkError extends Error {
  override name = 'LinkError';
}

function setImm64(insns: Insn[], at: number, value: bigint): void {
  const v = BigInt.asUintN(64, value);
  insns[at] = { ...insns[at], src: 0, imm: Number(BigInt.asIntN(32, v & 0xffff_ffffn)) };
  insns[at + 1] = { ...insns[at + 1], imm: Number(BigInt.asIntN(32, v >> 32n)) };
}

/** A copy of the program's instructions with map and global references resolved. */
export function linkProgram(prog: ProgramSpec, target: LinkTarget): Insn[] {
  const insns = prog.insns.map((i) => ({ ...i }));
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i];
    if (insn.opcode !== OP_LDDW) continue;
    const where = () => `program ${prog.name}: instruction ${i}`;
    if (i + 1 >= insns.length) throw new LinkError(`${where()}: lddw without its second slot`);
    switch (insn.src) {
      case 0:
        break;
      case BPF_PSEUDO_MAP_IDX:
      case BPF_PSEUDO_MAP_FD: {
        const handle = target.mapHandle(insn.imm);
        if (handle === undefined) throw new LinkError(`${where()}: refers to map ${insn.imm}, which the object does not define`);
        setImm64(insns, i, handle);
        break;
      }
      case BPF_PSEUDO_MAP_IDX_VALUE:
      case BPF_PSEUDO_MAP_VALUE: {
        const base = target.mapValueAddress(insn.imm);
        if (base === undefined) {
          throw new LinkError(`${where()}: takes the address of a value of map ${target.mapName(insn.imm)}, which has no direct value (only single-entry array maps do)`);
        }
        setImm64(insns, i, base + BigInt(insns[i + 1].imm >>> 0));
        break;
      }
      case BPF_PSEUDO_FUNC:
        break;
      case BPF_PSEUDO_BTF_ID:
        throw new LinkError(`${where()}: refers to a kernel symbol by BTF id (ksym ${insn.imm}), which bpfbed does not emulate`);
      default:
        throw new LinkError(`${where()}: lddw with unknown source ${insn.src}`);
    }
    i++; // skip the second slot
  }
  return insns;
}
