// Turns a raw fault record from the VM into a sentence a BPF developer can act on: what
// happened, in which program at which instruction (with its disassembly), the address and size,
// where that address lies relative to the nearest region, and the C source line.
import type { Insn } from '../asm/insn.js';
import { formatInsn } from '../asm/disasm.js';
import { helperName } from '../helpers/names.js';
import type { FaultCode, RegionInfo, SourceLine } from './types.js';

export type { RegionInfo };

export interface FaultContext {
  code: FaultCode;
  progName: string;
  insns: readonly Insn[];
  insnIndex: number;
  address?: bigint;
  size?: number;
  regions: readonly RegionInfo[];
  /** Region the access fell in, for permission faults. */
  deniedRegion?: RegionInfo;
  sourceLine?: SourceLine;
  /** Extra words for this fault (budget size, helper number, the error a helper threw...). */
  detail?: string;
  /** Replaces the generic sentence after the code (e.g. "write to read-only field at offset 0x10"). */
  headline?: string;
}

const WHAT: Record<FaultCode, string> = {
  read_oob: 'read outside every readable region',
  write_oob: 'write outside every writable region',
  read_denied: 'read from a region that is not readable',
  write_denied: 'write to a read-only region',
  ctx_read: 'context read the program type does not allow',
  ctx_write: 'context write the program type does not allow',
  budget: 'instruction budget exhausted',
  call_depth: 'call stack too deep',
  tail_call_limit: 'tail call limit reached',
  helper: 'helper failed',
  bad_callx: 'callx to an address that is not a function start',
};

/** One-line disassembly of instruction `index`, falling back to the raw fields. */
export function describeInsn(insns: readonly Insn[], index: number): string {
  const insn = insns[index];
  if (!insn) return `<no instruction ${index}>`;
  try {
    return formatInsn(insns, index, { helperName });
  } catch {
    return `op=0x${insn.opcode.toString(16)} dst=r${insn.dst} src=r${insn.src} off=${insn.off} imm=${insn.imm}`;
  }
}

const hexAddr = (a: bigint): string => `0x${a.toString(16)}`;
const plural = (n: bigint): string => `${n} byte${n === 1n ? '' : 's'}`;

/** "4 bytes past the end of packet [0x.., 0x..)" for the region nearest to [addr, addr+size). */
export function whereRelative(address: bigint, size: number, regions: readonly RegionInfo[]): string | undefined {
  let best: { region: RegionInfo; distance: bigint; text: string } | undefined;
  for (const region of regions) {
    const start = region.start;
    const end = start + BigInt(region.length);
    const range = `${region.name} [${hexAddr(start)}, ${hexAddr(end)})`;
    const accessEnd = address + BigInt(size);
    let distance: bigint;
    let text: string;
    if (address >= start && accessEnd <= end) {
      distance = 0n;
      text = `at offset ${address - start} of ${range}`;
    } else if (address >= start && address < end) {
      distance = 0n;
      text = `at offset ${address - start} of ${range}, ${plural(accessEnd - end)} past its end`;
    } else if (address >= end) {
      distance = address - end;
      text = `${plural(accessEnd - end)} past the end of ${range}`;
    } else {
      distance = start - address;
      text = `${plural(start - address)} before the start of ${range}`;
    }
    if (!best || distance < best.distance) best = { region, distance, text };
  }
  return best?.text;
}

/** The full fault message. */
export function formatFault(ctx: FaultContext): string {
  const parts: string[] = [];
  parts.push(`${ctx.code}: ${ctx.headline ?? WHAT[ctx.code]}${ctx.detail ? ` (${ctx.detail})` : ''}`);
  parts.push(`in ${ctx.progName} at insn ${ctx.insnIndex}: ${describeInsn(ctx.insns, ctx.insnIndex)}`);
  if (ctx.address !== undefined && ctx.code !== 'bad_callx' && ctx.code !== 'budget') {
    const size = ctx.size ?? 0;
    let line = `address ${hexAddr(ctx.address)} size ${size}`;
    if (ctx.address < 0x1_0000n) line += ' (NULL or near-NULL pointer)';
    const where = ctx.deniedRegion
      ? whereRelative(ctx.address, size, [ctx.deniedRegion])
      : whereRelative(ctx.address, size, ctx.regions);
    if (where && ctx.address >= 0x1_0000n) line += `: ${where}`;
    parts.push(line);
  } else if (ctx.code === 'bad_callx' && ctx.address !== undefined) {
    parts.push(`target ${hexAddr(ctx.address)}`);
  }
  if (ctx.sourceLine) {
    const s = ctx.sourceLine;
    parts.push(`at ${s.file}:${s.line}: ${s.text.trim()}`);
  }
  return parts.join('\n  ');
}
