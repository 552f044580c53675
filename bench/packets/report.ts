// The per-packet benchmark as a table for people: bpfbed and kernel side by side per packet
// kind and over the whole capture, then where bpfbed's time per packet goes.
import type { PacketBenchResult } from './index.js';

/** The issue's goal: bpfbed within this factor of the kernel's JIT per packet. */
export const TARGET_KERNEL_RATIO = 3;
const JIT_OFF = 'kernel: net.core.bpf_jit_enable is 0: the kernel column is its interpreter, not the JIT';

function pad(cells: string[][]): string {
  const widths = cells[0].map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  return cells.map((r) => r.map((cell, c) => (c === 0 || c === 1 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd()).join('\n');
}

const ns = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const pct = (part: number, whole: number): string => `${((100 * part) / whole).toFixed(0)}%`;

function verdictText(v: Record<string, number>): string {
  return Object.entries(v)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => (Object.keys(v).length === 1 && n === 1 ? name : `${name} ${n}`))
    .join(', ');
}

export function formatPacketBench(results: readonly PacketBenchResult[]): string {
  const rows = [['packets', 'verdict', 'insns/pkt', 'bpfbed ns/pkt', 'kernel ns/pkt', 'bpfbed/kernel']];
  const notes: string[] = [];
  for (const r of results) {
    const k = r.kernel;
    rows.push([
      r.name,
      verdictText(r.verdicts),
      r.bpfbed.insnsPerPacket.toFixed(1),
      ns(r.bpfbed.nsPerPacket),
      'na' in k ? 'n/a' : `${k.estimated ? '~' : ''}${ns(k.nsPerPacket)}`,
      r.ratio === undefined ? '' : `${r.ratio.toFixed(1)}x`,
    ]);
    if ('na' in k && !notes.includes(`kernel: ${k.na}`)) notes.push(`kernel: ${k.na}`);
    if (!('na' in k) && k.jit === false && !notes.includes(JIT_OFF)) notes.push(JIT_OFF);
  }
  const lines = [pad(rows), ''];
  for (const r of results) lines.push(`  ${r.name}: ${r.what}`);
  lines.push('  kernel: BPF_PROG_TEST_RUN mean per run (bpftool prog run ... repeat); ~ = the kinds\' times weighted by the capture\'s mix');
  lines.push('  bpfbed: CtxRunner.runSkb per packet (skb built from the frame, context laid out, run, packet and fields collected)');
  for (const n of notes) lines.push(`  ${n}`);

  const capture = results.find((r) => r.breakdown);
  if (capture?.ratio !== undefined) {
    const met = capture.ratio <= TARGET_KERNEL_RATIO;
    lines.push('', `goal: within ${TARGET_KERNEL_RATIO}x of the kernel per packet; reached ${capture.ratio.toFixed(1)}x over the capture (${met ? 'met' : `${(capture.ratio / TARGET_KERNEL_RATIO).toFixed(1)}x short`})`);
  }
  const b = capture?.breakdown;
  if (b) {
    lines.push('', `where bpfbed's ${ns(b.totalNs)} ns per packet go (capture; an estimate, see bench/packets/breakdown.ts):`);
    const parts = [
      ['(a) context setup + collect', b.setupCollectNs, 'skbFromFrame, __sk_buff and packet layout, collect()'],
      ['    run bookkeeping', b.runBookkeepingNs, 'Testbed.run around Machine.run: printk, events, result'],
      ['(b) Machine.run entry/exit', b.runEntryNs, 'Machine.run of an empty program (micro_none)'],
      ['    instructions (rest)', b.instructionNs, `Machine.run minus the above and the helpers; ${b.insnsPerPacket.toFixed(1)} insns/packet`],
      ['(c) helper calls', b.helperNs, `${b.helpers.reduce((s, h) => s + h.callsPerPacket, 0).toFixed(2)} calls/packet`],
    ] as const;
    const table = [['part', '', 'ns/pkt', 'share']];
    for (const [name, value, note] of parts) table.push([name, note, ns(value), pct(value, b.totalNs)]);
    for (const h of b.helpers) table.push([`      ${h.helper}`, `${h.callsPerPacket.toFixed(2)} calls x ${ns(h.nsPerCall)} ns`, ns(h.nsPerPacket), pct(h.nsPerPacket, b.totalNs)]);
    lines.push(pad(table));
    lines.push(`  (timer cost ${ns(b.timerNs)} ns per performance.now(), taken off; helper cost per call from the micro_* programs, 32 calls each;`);
    lines.push('   garbage collection pauses count in whichever part was running, mostly the "rest": the profiler below lists them apart)');
    const prof = b.profile;
    if (prof) {
      lines.push('', `the same from V8's sampling profiler (one pass, ${prof.samples} samples every ${prof.intervalUs} us; ns = share x ${ns(b.totalNs)}):`);
      const t = [['part', 'largest contributors', 'ns/pkt', 'share']];
      for (const p of prof.parts) {
        const top = p.top.map((c) => `${c.name} ${pct(c.share, 1)}`).join(', ');
        t.push([p.part, top, ns(p.share * b.totalNs), pct(p.share, 1)]);
      }
      lines.push(pad(t));
    }
  }
  const mismatches = results.flatMap((r) => r.mismatches.map((m) => `${r.name}: ${m}`));
  if (mismatches.length > 0) lines.push('', 'MISMATCHES:', ...mismatches.map((m) => `  ${m}`));
  return `${lines.join('\n')}\n`;
}
