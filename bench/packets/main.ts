// The per-packet benchmark on its own (see index.ts):
//
//   node dist/bench/packets/main.js [--json] [--min-seconds S] [--packets N] [--syns N] [--no-kernel]
//                                   [--only capture|nodeport] [--scenario FILE (instead of kpr-remote.yaml)]
import { cpus, loadavg } from 'node:os';
import { benchPackets, formatPacketBench, type PacketBenchResult } from './index.js';
import { benchNodePort, formatNodePortBench, type NodePortBenchRow } from './nodeport.js';

interface Args {
  json: boolean;
  minSeconds: number;
  packets?: number;
  kernel: boolean;
  syns?: number;
  scenario?: string;
  only?: 'capture' | 'nodeport';
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { json: false, minSeconds: 1, kernel: true };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): number => {
      const text = argv[++i];
      const n = Number(text);
      if (text === undefined || !Number.isFinite(n) || n <= 0) throw new Error(`${flag} wants a positive number, got '${text ?? ''}'`);
      return n;
    };
    if (flag === '--json') args.json = true;
    else if (flag === '--min-seconds') args.minSeconds = value();
    else if (flag === '--packets') args.packets = Math.round(value());
    else if (flag === '--syns') args.syns = Math.round(value());
    else if (flag === '--no-kernel') args.kernel = false;
    else if (flag === '--scenario') {
      args.scenario = argv[++i];
      if (!args.scenario) throw new Error('--scenario wants a file');
    }
    else if (flag === '--only') {
      const what = argv[++i];
      if (what !== 'capture' && what !== 'nodeport') throw new Error(`--only wants capture or nodeport, got '${what ?? ''}'`);
      args.only = what;
    } else throw new Error(`unknown option ${flag} (use --json, --min-seconds S, --packets N, --syns N, --scenario FILE, --no-kernel, --only capture|nodeport)`);
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (s: string): void => {
    if (!args.json) process.stderr.write(`bench: ${s}\n`);
  };
  const loadBefore = loadavg()[0];
  const started = Date.now();
  const results: PacketBenchResult[] = args.only === 'nodeport' ? [] : await benchPackets({ minSeconds: args.minSeconds, log, kernel: args.kernel, packets: args.packets });
  const nodeport: NodePortBenchRow[] = args.only === 'capture' ? [] : await benchNodePort({ minSeconds: args.minSeconds, log, kernel: args.kernel, syns: args.syns, scenario: args.scenario });
  const load = Math.max(loadBefore, loadavg()[0]);
  const busy = load > cpus().length * 0.75;
  const seconds = (Date.now() - started) / 1000;
  if (args.json) {
    const report = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cpuCount: cpus().length, loadAverage: load, busy, seconds, results, nodeport };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    const machine = `node ${process.version} on ${cpus()[0]?.model ?? 'an unknown CPU'} (${cpus().length} CPUs, load average ${load.toFixed(1)}), ${seconds.toFixed(0)} s`;
    const warning = busy ? '\nWARNING: the machine was busy during the run; the times are inflated and noisy.\n' : '';
    const tables = [results.length ? formatPacketBench(results) : '', nodeport.length ? formatNodePortBench(nodeport) : ''].filter(Boolean).join('\n');
    process.stdout.write(`${machine}\n\n${tables}${warning}`);
  }
  if ([...results, ...nodeport].some((r) => r.mismatches.length > 0)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
