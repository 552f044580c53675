#!/usr/bin/env node
// The kernel parity run (issue 6) on demand: every scenario, every object no scenario runs, their
// packet programs, and the differential run of random programs, compared between the running
// kernel and bpfbed (src/node/parity). Root only; needs the compiled sources:
//   npm run build && node scripts/parity.mjs [--json] [--long] [options]
//   --json             print the report as JSON instead of the text form
//   --long             200,000 random programs instead of 10,000
//   --count N          random programs to compare (0: no differential run)
//   --seed S           the differential run's seed (default 20261122)
//   --only REGEX       only scenarios, objects and programs whose name matches
//   --out DIR          also write parity-report.json and parity-report.txt there
//   --socket-expect F  run socket scenario F in the kernel only, print each call with what the
//                      kernel showed, as YAML to put in F (kernel-produced expectations), and
//                      write the same to <F without .yaml>/expected/kernel.json
// Exit 0 when everything agreed, 1 on any mismatch or a scenario that could not run, 2 when the
// kernel cannot be used or the arguments are wrong.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist/src`;
if (!existsSync(`${dist}/node/parity/run.js`)) {
  console.error('scripts/parity.mjs: dist/ has no parity runner; run `npm run build` first');
  process.exit(2);
}
const { kernelAvailable } = await import(`${dist}/node/kernel.js`);
const { runParity, DEFAULT_DIFFERENTIAL } = await import(`${dist}/node/parity/run.js`);
const { formatParityText, formatTotalsLine } = await import(`${dist}/node/parity/report.js`);

function usage(problem) {
  console.error(`scripts/parity.mjs: ${problem}\nusage: node scripts/parity.mjs [--json] [--long] [--count N] [--seed S] [--only REGEX] [--out DIR] [--socket-expect SCENARIO]`);
  process.exit(2);
}

let json = false;
let count = DEFAULT_DIFFERENTIAL.count;
let seed = DEFAULT_DIFFERENTIAL.seed;
let only;
let out;
let socketExpect;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  const next = () => {
    if (i + 1 >= args.length) usage(`${arg} needs a value`);
    return args[++i];
  };
  const integer = () => {
    const v = Number(next());
    if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) usage(`${arg} wants an integer in 0..2^32-1`);
    return v;
  };
  if (arg === '--json') json = true;
  else if (arg === '--long') count = 200_000;
  else if (arg === '--count') count = integer();
  else if (arg === '--seed') seed = integer();
  else if (arg === '--only') {
    try {
      only = new RegExp(next());
    } catch (err) {
      usage(`--only: ${err.message}`);
    }
  } else if (arg === '--out') out = next();
  else if (arg === '--socket-expect') socketExpect = next();
  else usage(`unknown argument ${arg}`);
}

const kernel = kernelAvailable();
if (!kernel.ok) {
  console.error(`scripts/parity.mjs: cannot use the kernel as oracle: ${kernel.why}`);
  process.exit(2);
}

if (socketExpect) {
  const { parseScenario } = await import(`${dist}/scenario/parse.js`);
  const { kernelSocketExpectations } = await import(`${dist}/node/parity/socket-scenario.js`);
  const path = resolve(socketExpect);
  const scenario = parseScenario(readFileSync(path, 'utf8'), socketExpect);
  if (!scenario.sockets) usage(`${socketExpect} has no sockets: section`);
  const seen = await kernelSocketExpectations(scenario, path);
  // each call as a flow mapping with the kernel's view as its expect, ready to replace the calls
  const scalar = (v) => (typeof v !== 'string' ? String(v) : /^[A-Za-z0-9._-]+(:\d+)?$/.test(v) ? v : JSON.stringify(v));
  const flow = (o) => `{ ${Object.entries(o).map(([k, v]) => `${k}: ${typeof v === 'object' ? flow(v) : scalar(v)}`).join(', ')} }`;
  const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const outDir = join(path.replace(/\.(ya?ml|json)$/, ''), 'expected');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    join(outDir, 'kernel.json'),
    JSON.stringify(
      {
        producedBy: 'the kernel: real sockets of a python3 process in a cgroup v2 with the programs attached, in a fresh network namespace (src/node/parity/sockets-kernel.ts)',
        kernel: release,
        calls: scenario.sockets.calls.map((call, i) => ({ socket: call.socket, call: Object.keys(call).find((k) => !['socket', 'payload', 'expect'].includes(k)), seen: seen[i] ?? {} })),
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`  # the kernel's view of every call (kernel ${release}; also in ${outDir}/kernel.json)`);
  console.log('  calls:');
  scenario.sockets.calls.forEach((call, i) => {
    const { expect: _old, ...rest } = call;
    const view = seen[i] ?? {};
    console.log(`    - ${flow(Object.keys(view).length ? { ...rest, expect: view } : rest)}`);
  });
  process.exit(0);
}

const started = performance.now();
const report = await runParity({
  differential: count > 0 ? { count, seed } : false,
  ...(only ? { only } : {}),
  onItem: (item) => {
    if (!json) process.stderr.write(`  ${item.status.padEnd(12)} ${item.name}\n`);
  },
});
const text = formatParityText(report);
if (out) {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'parity-report.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(out, 'parity-report.txt'), text);
}
if (json) console.log(JSON.stringify(report, null, 2));
else {
  console.log(text);
  console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s: ${formatTotalsLine(report.totals)}`);
}
process.exit(report.totals.mismatches > 0 || report.totals.errors > 0 ? 1 : 0);
