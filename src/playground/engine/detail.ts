// Everything the page shows for one packet: headers decoded before and after (with byte ranges
// for the hex view), which fields and bytes changed, each program run on its way (printk,
// redirect, fault with its C line, the trace grouped by C line) and the map entries it changed.
import { decodePacket, type DecodedPacket } from '../../packet/decode.js';
import { diffPackets } from '../../packet/diff.js';
import type { CtxRunner, SkbRunResult, XdpRunResult } from '../../ctx/runner.js';
import type { Hop } from '../../run/pipeline.js';
import type { DecodedField, HopDetail, MapChange, PacketDetail } from '../protocol.js';
import { redirectText, packetRow } from './rows.js';
import { disasmAt, groupTrace } from './trace.js';
import type { StepResult } from './world.js';

export function decodedFields(packet: DecodedPacket): DecodedField[] {
  return packet.layers.flatMap((layer) =>
    layer.fields.map((f) => ({ layer: layer.protocol, name: f.name, value: f.display, range: [f.offset, f.length] as [number, number] })),
  );
}

/** Offsets that differ (same length), or every offset of the longer frame when the length changed. */
export function changedByteOffsets(before: Uint8Array, after: Uint8Array): number[] {
  const out: number[] = [];
  if (before.length !== after.length) {
    for (let i = 0; i < Math.max(before.length, after.length); i++) out.push(i);
    return out;
  }
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) out.push(i);
  return out;
}

function hopDetail(runner: CtxRunner, hop: Hop, run: SkbRunResult | XdpRunResult | undefined, traceLimit: number): HopDetail {
  const bed = runner.bed;
  const trace = run?.trace ?? [];
  const detail: HopDetail = {
    program: hop.program,
    attach: hop.attach,
    device: hop.device,
    verdict: hop.verdict,
    insnCount: hop.insnCount,
    printk: hop.printk,
    tailCalls: hop.tailCalls,
    trace: groupTrace(bed, trace, run?.fault),
    traceTruncated: traceLimit > 0 && trace.length >= traceLimit,
  };
  const redirect = redirectText(hop);
  if (redirect) detail.redirect = redirect;
  const fault = run?.fault;
  if (hop.fault !== undefined) {
    const prog = fault && bed.programs.find((p) => p.progId === fault.progId);
    if (fault && prog) {
      const src = bed.sourceLine(prog.name, fault.insnIndex);
      detail.fault = { message: hop.fault, pc: fault.insnIndex, disasm: disasmAt(prog, fault.insnIndex), ...(src ? { line: { file: src.file, line: src.line, text: src.text } } : {}) };
    } else {
      detail.fault = { message: hop.fault, pc: -1, disasm: '' };
    }
  }
  return detail;
}

export function packetDetail(runner: CtxRunner, step: StepResult, mapChanges: MapChange[], traceLimit: number): PacketDetail {
  const row = packetRow(step.entry);
  const beforeBytes = step.frame ?? new Uint8Array(0);
  const beforeDecoded = decodePacket(beforeBytes);
  const detail: PacketDetail = {
    row,
    beforeBytes,
    beforeFields: decodedFields(beforeDecoded),
    changedFields: [],
    changedBytes: [],
    hops: step.entry.hops.map((hop, i) => hopDetail(runner, hop, step.runs[i], traceLimit)),
    mapChanges,
  };
  const afterBytes = step.fate?.data;
  if (afterBytes) {
    const afterDecoded = decodePacket(afterBytes);
    detail.afterBytes = afterBytes;
    detail.afterFields = decodedFields(afterDecoded);
    detail.changedBytes = changedByteOffsets(beforeBytes, afterBytes);
    const names = new Set<string>();
    for (const c of diffPackets(beforeDecoded, afterDecoded)) {
      // Repeated fields are named 'tcp.option_kind#2' by the diff; the page matches plain names.
      if (c.kind === 'field-changed' || c.kind === 'field-added' || c.kind === 'field-removed') names.add(c.name.replace(/#\d+$/, ''));
      else if (c.kind === 'layer-added' || c.kind === 'layer-removed') for (const f of c.layer.fields) names.add(f.name);
    }
    detail.changedFields = [...names];
  }
  return detail;
}
