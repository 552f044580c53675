// bpfbed run: feed a capture through programs of an object, in a scenario's world or a default
// one, print what happened to each packet, write what left each device, compare with what was
// expected. Exit 0 when everything matched, 1 on any mismatch or fault, 2 on bad input.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { formatInsn } from '../../asm/disasm.js';
import { loadObject } from '../../loader/object.js';
import type { ProgramSpec } from '../../loader/spec.js';
import { parseScenario } from '../../scenario/parse.js';
import type { AttachPoint, Scenario } from '../../scenario/types.js';
import { junitXml, type JunitCase } from '../../run/junit.js';
import { runScenario, type RunReport } from '../../run/scenario-run.js';
import { UsageError } from '../io.js';
import { parseCount } from '../options.js';
import { formatTable } from '../table.js';
import { reportJson } from '../../run/report-json.js';

interface RunOptions {
  prog?: string[];
  pcap?: string;
  scenario?: string;
  out?: string;
  expect?: string;
  json?: boolean;
  junit?: string;
  trace?: string | boolean;
  drops?: boolean;
  device?: string;
  egress?: boolean;
  progress: boolean;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run programs of an object on every packet of a capture, and check the results')
    .argument('[obj]', 'BPF object file (default: the scenario\'s)')
    .option('--prog <name...>', 'program(s) to attach; the section says where (xdp, tc/ingress, tc/egress, socket)')
    .option('--pcap <file>', 'input capture (pcap or pcapng; default: the scenario\'s)')
    .option('--scenario <file>', 'scenario file (YAML or JSON): environment, map entries, expectations')
    .option('--device <name>', 'device the packets arrive on (default: the scenario\'s, or eth0)')
    .option('--egress', 'packets leave through the device instead of arriving')
    .option('--out <dir>', 'write <output>.pcap for each device, stack and drop, and report.json')
    .option('--expect <dir>', 'compare each output with <dir>/<output>.pcap, packet by packet')
    .option('--drops', 'also write drop.pcap with --out')
    .option('--json', 'print the report as JSON instead of a table')
    .option('--junit <file>', 'write a JUnit XML report (one test case per packet and check)')
    .option('--trace [packet]', 'print the instructions executed (with registers and C lines) for every packet, or one')
    .option('--no-progress', 'no progress bar even on a terminal')
    .addHelpText(
      'after',
      `
Examples:
  $ bpfbed run nodeport.o --prog nodeport_ingress --pcap syn.pcap
  $ bpfbed run --scenario fixtures/scenarios/dnat.yaml --out out/ --junit report.xml

Exit status: 0 when every packet ran and matched what was expected, 1 on a mismatch or a
fault, 2 on bad input (object, capture, scenario, options).`,
    )
    .action(async (obj: string | undefined, opts: RunOptions) => {
      process.exitCode = await runCommand(obj, opts);
    });
}

/** The program's attach point from its section, as libbpf names them. */
function attachOf(prog: ProgramSpec): AttachPoint {
  if (prog.type === 'xdp') return 'xdp';
  if (prog.type === 'socket_filter') return 'socket';
  if (prog.type === 'sched_cls' || prog.type === 'sched_act') return /egress/.test(prog.section) ? 'tc/egress' : 'tc/ingress';
  throw new UsageError(`program ${prog.name} (section ${prog.section}) is not a packet program (xdp, tc or socket); use a scenario for socket hooks`);
}

function buildScenario(obj: string | undefined, opts: RunOptions): { scenario: Scenario; base: string } {
  let scenario: Scenario;
  let base = process.cwd();
  if (opts.scenario) {
    let text: string;
    try {
      text = readFileSync(opts.scenario, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${opts.scenario}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    scenario = parseScenario(text, opts.scenario);
    base = dirname(resolve(opts.scenario));
    // Paths given on the command line are relative to where we are, not to the scenario.
    if (obj) scenario.object = resolve(obj);
    if (opts.pcap) scenario.input = { ...scenario.input, pcap: resolve(opts.pcap) };
  } else {
    if (!obj) throw new UsageError('give an object file, or --scenario');
    if (!opts.pcap) throw new UsageError('give --pcap, or --scenario with an input capture');
    scenario = {
      object: obj,
      programs: [],
      // The default world: one Ethernet device, as a test run in a namespace with a veth would have.
      environment: { devices: [{ name: opts.device ?? 'eth0', ifindex: 2, mac: '02:00:00:00:00:01' }] },
      input: { pcap: opts.pcap },
    };
  }
  if (opts.prog) {
    const spec = loadObject(readFileSync(resolve(base, scenario.object)), { name: basename(scenario.object) });
    scenario.programs = opts.prog.map((name) => {
      const prog = spec.programs.find((p) => p.name === name);
      if (!prog) throw new UsageError(`${scenario.object}: no program named '${name}' (programs: ${spec.programs.map((p) => p.name).join(', ')})`);
      return { program: name, attach: attachOf(prog) };
    });
  }
  if (scenario.programs.length === 0) throw new UsageError('no program to run: give --prog NAME');
  if (opts.device) scenario.input = { ...scenario.input!, device: opts.device };
  if (opts.egress) scenario.input = { ...scenario.input!, direction: 'egress' };
  return { scenario, base };
}

async function runCommand(obj: string | undefined, opts: RunOptions): Promise<number> {
  const { scenario, base } = buildScenario(obj, opts);
  const read = (path: string) => {
    const full = resolve(base, path);
    try {
      return new Uint8Array(readFileSync(full));
    } catch (err) {
      throw new UsageError(`cannot read ${relative(process.cwd(), full) || full}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  if (scenario.sockets) return runSocketsCommand(scenario, read, opts);
  const traceAll = opts.trace === true;
  const tracePacket = typeof opts.trace === 'string' ? parseCount(opts.trace, '--trace') : undefined;
  const bar = opts.progress && process.stderr.isTTY && !opts.json ? new cliProgress.SingleBar({ format: 'packets {bar} {value}/{total} {eta_formatted}', stream: process.stderr, clearOnComplete: true }, cliProgress.Presets.shades_classic) : undefined;
  let started = false;
  const { report, outputs, runner } = await runScenario(scenario, read, {
    traceLimit: traceAll || tracePacket !== undefined ? 4096 : undefined,
    onPacket: (done, total) => {
      if (!bar || total < 1000) return;
      if (!started) {
        bar.start(total, 0);
        started = true;
      }
      bar.update(done);
    },
  });
  if (started) bar?.stop();

  if (opts.expect) {
    if (!existsSync(opts.expect)) throw new UsageError(`--expect: no folder ${opts.expect}`);
    const { compareOutput } = await import('../../run/compare.js');
    const { readCapture } = await import('../../pcap/read.js');
    const expected = readdirSync(opts.expect).filter((f) => f.endsWith('.pcap') || f.endsWith('.pcapng'));
    const names = new Set([...expected.map((f) => f.replace(/\.pcap(ng)?$/, '')), ...outputs.names().filter((n) => n !== 'drop')]);
    for (const name of names) {
      const file = expected.find((f) => f.replace(/\.pcap(ng)?$/, '') === name);
      const want = file ? readCapture(new Uint8Array(readFileSync(join(opts.expect, file)))).packets : [];
      for (const m of compareOutput(name, want, outputs.packets(name))) {
        report.mismatches.push({ what: 'output', packet: m.packet, message: `${name} packet ${m.position}: ${m.problem}`, details: m.changes });
      }
    }
    report.ok = report.mismatches.length === 0;
  }
  if (opts.out) {
    mkdirSync(opts.out, { recursive: true });
    for (const name of outputs.names()) {
      if (name === 'drop' && !opts.drops) continue;
      writeFileSync(join(opts.out, `${name}.pcap`), outputs.pcap(name));
    }
    writeFileSync(join(opts.out, 'report.json'), reportJson(report) + '\n');
  }
  if (opts.junit) writeFileSync(opts.junit, junitXml(scenario.description ?? scenario.object, junitCases(report)));

  if (opts.json) {
    console.log(reportJson(report));
  } else {
    console.log(formatReport(report));
    if (traceAll || tracePacket !== undefined) {
      for (const p of report.packets) {
        if (tracePacket !== undefined && p.packet !== tracePacket) continue;
        for (const hop of p.hops) console.log(formatTrace(runner.bed, p.packet, hop));
      }
    }
  }
  return report.ok ? 0 : 1;
}

/** A socket scenario: its calls on emulated sockets, a row per call, the mismatches. */
async function runSocketsCommand(scenario: Scenario, read: (path: string) => Uint8Array, opts: RunOptions): Promise<number> {
  const { runSocketScenario } = await import('../../scenario/socket-run.js');
  const { report } = await runSocketScenario(scenario, read);
  if (opts.out) {
    mkdirSync(opts.out, { recursive: true });
    writeFileSync(join(opts.out, 'report.json'), reportJson(report) + '\n');
  }
  if (opts.json) {
    console.log(reportJson(report));
    return report.ok ? 0 : 1;
  }
  const seen = (s: object) => Object.entries(s).map(([k, v]) => `${k} ${v}`).join(', ');
  const rows = report.calls.map((c) => [String(c.index + 1), c.socket, c.call, seen(c.seen) || '-', c.mismatches.length ? 'MISMATCH' : '']);
  console.log(formatTable(['#', 'socket', 'call', 'the application saw', ''], rows, { right: [0] }));
  console.log(`${report.calls.length} calls on ${report.sockets.length} sockets`);
  if (report.ok) console.log('ok');
  else {
    console.log(`${report.mismatches.length} problem${report.mismatches.length === 1 ? '' : 's'}:`);
    for (const m of report.mismatches) console.log(`  ${m}`);
  }
  return report.ok ? 0 : 1;
}


function formatReport(r: RunReport): string {
  const rows = r.packets.map((p) => [
    String(p.packet),
    p.input || p.error || '',
    p.hops.map((h) => h.verdict).join(' → ') || '-',
    p.output + (p.reason ? ` (${p.reason})` : ''),
    p.changes.slice(0, 3).join(', ') + (p.changes.length > 3 ? ` (+${p.changes.length - 3})` : ''),
  ]);
  const lines = [formatTable(['#', 'packet', 'verdict', 'output', 'changes'], rows, { right: [0] }), ''];
  for (const p of r.packets) for (const h of p.hops) for (const line of h.printk) lines.push(`packet ${p.packet} ${h.program}: printk: ${line}`);
  lines.push(
    `${r.totals.packets} packets, ${r.totals.instructions} instructions; outputs: ${r.outputs.map((o) => `${o.name} ${o.packets}`).join(', ') || 'none'}` +
      (r.totals.faults ? `; ${r.totals.faults} faults` : ''),
  );
  if (r.captureError) lines.push(`capture: ${r.captureError}`);
  if (r.mismatches.length === 0) lines.push('ok');
  else {
    lines.push(`${r.mismatches.length} problem${r.mismatches.length === 1 ? '' : 's'}:`);
    for (const m of r.mismatches) {
      lines.push(`  ${m.message}`);
      for (const d of m.details ?? []) lines.push(`      ${d}`);
    }
  }
  return lines.join('\n');
}

function formatTrace(bed: { program(name: string): { spec: ProgramSpec; progId: number }; programs: { progId: number; name: string; spec: ProgramSpec }[]; sourceLine(name: string, i: number): { file: string; line: number; text: string } | undefined }, packet: number, hop: { program: string; trace?: { progId: number; insnIndex: number; regs: bigint[] }[] }): string {
  const out = [`packet ${packet}, ${hop.program}:`];
  let lastLine = '';
  for (const t of hop.trace ?? []) {
    const prog = bed.programs.find((p) => p.progId === t.progId);
    if (!prog) continue;
    const src = bed.sourceLine(prog.name, t.insnIndex);
    const where = src ? `${src.file}:${src.line}` : '';
    if (src && where !== lastLine) {
      out.push(`  ; ${src.text.trim()}  (${where})`);
      lastLine = where;
    }
    const regs = t.regs.slice(0, 10).map((v, i) => (v === 0n ? '' : `r${i}=0x${v.toString(16)}`)).filter(Boolean).join(' ');
    out.push(`  ${String(t.insnIndex).padStart(5)}: ${formatInsn(prog.spec.insns, t.insnIndex).padEnd(40)} ${regs}`);
  }
  return out.join('\n');
}

function junitCases(r: RunReport): JunitCase[] {
  const cases: JunitCase[] = r.packets.map((p) => {
    const problems = r.mismatches.filter((m) => m.packet === p.packet);
    return {
      name: `packet ${p.packet}: ${p.input}`,
      classname: r.object,
      ...(problems.length ? { failure: { message: problems[0].message, details: problems.flatMap((m) => [m.message, ...(m.details ?? [])]).join('\n') } } : {}),
    };
  });
  for (const m of r.mismatches.filter((x) => x.packet === undefined)) {
    cases.push({ name: m.what, classname: r.object, failure: { message: m.message, details: (m.details ?? []).join('\n') } });
  }
  return cases;
}
