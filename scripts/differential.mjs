// A longer differential run of the instruction set against the kernel than the CI test
// (test/kernel/differential.test.ts), on demand. Needs root and the compiled sources:
//   npm run build:ts && node scripts/differential.mjs [--count N] [--seed S] [--save]
//   --count N  verifier-accepted programs to compare (default 100000)
//   --seed S   the run's seed, an unsigned 32-bit integer (default: from the clock, printed)
//   --save     write every mismatch as a regression case to fixtures/differential/
// Prints progress and the totals (generated, accepted, compared, mismatches, rates); exits 1 on
// any mismatch, 2 when it cannot run.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist/src/node`;
if (!existsSync(`${dist}/differential/run.js`)) {
  console.error('scripts/differential.mjs: dist/ has no differential runner; run `npm run build:ts` first');
  process.exit(2);
}
const { kernelAvailable } = await import(`${dist}/kernel.js`);
const { runDifferential, formatTotals } = await import(`${dist}/differential/run.js`);
const { makeRegressionCase, saveRegressionCase } = await import(`${dist}/differential/fixtures.js`);

function usage(problem) {
  console.error(`scripts/differential.mjs: ${problem}\nusage: node scripts/differential.mjs [--count N] [--seed S] [--save]`);
  process.exit(2);
}

let count = 100_000;
let seed = (Date.now() / 1000) >>> 0;
let save = false;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  const value = () => {
    const v = Number(args[++i]);
    if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) usage(`${arg} wants an integer in 0..2^32-1`);
    return v;
  };
  if (arg === '--count') count = value();
  else if (arg === '--seed') seed = value();
  else if (arg === '--save') save = true;
  else usage(`unknown argument ${arg}`);
}

const kernel = kernelAvailable();
if (!kernel.ok) {
  console.error(`scripts/differential.mjs: cannot use the kernel as oracle: ${kernel.why}`);
  process.exit(2);
}

console.log(`differential run: seed ${seed}, ${count} accepted programs`);
const started = performance.now();
const report = await runDifferential({
  seed,
  count,
  chunk: 5000,
  keepMismatches: 200,
  onProgress: (t) => console.log(`  ${((performance.now() - started) / 1000).toFixed(0)} s: ${formatTotals(t)}`),
});
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`done in ${seconds} s: ${formatTotals(report)}`);
const reasons = [...report.rejections].sort((a, b) => b[1] - a[1]);
for (const [why, n] of reasons.slice(0, 10)) console.log(`  rejected ${n}x: ${why}`);
for (const m of report.mismatchList) {
  console.log(`\n${m.report}`);
  if (save) {
    const where = m.diffs.map((d) => `${d.where}: kernel ${d.kernel}, bpfbed ${d.bpfbed}`).join('; ');
    const path = saveRegressionCase(
      `${root}fixtures/differential`,
      makeRegressionCase(m.seed, m.index, m.code, m.memIn, m.kernelMem, `mismatch found by the differential run: ${where}`),
    );
    console.log(`  saved as ${path}`);
  }
}
process.exit(report.mismatches > 0 ? 1 : 0);
