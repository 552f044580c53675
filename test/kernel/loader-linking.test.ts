// Differential check against libbpf itself: `bpftool -d prog loadall` logs how libbpf
// links each program ("added N insns from sub-prog 'x'", "... points to subprog 'x'
// (now at N offset)"). Needs root, BPF and bpftool; skipped (saying why) where they are missing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kernelAvailable } from '../../src/node/kernel.js';
import { loadObject } from '../../src/loader/object.js';
import { fixtureBytes, repoPath, type Fixture } from '../loader/fixtures.js';

const kernel = kernelAvailable();
const enabled = kernel.ok && spawnSync('bpftool', ['version']).status === 0;
if (!enabled) console.log(`loader linking vs libbpf: skipped (${kernel.why ?? 'bpftool not found'})`);

interface LibbpfLink {
  /** Sub-programs appended, in order. */
  added: { name: string; count: number }[];
  /** Subprogram name → its offset in the linked program. */
  placedAt: Map<string, number>;
}

function libbpfLinking(f: Fixture): Map<string, LibbpfLink> {
  const pinDir = mkdtempSync('/sys/fs/bpf/bpfbed-');
  try {
    const run = spawnSync('bpftool', ['-d', 'prog', 'loadall', repoPath(`fixtures/obj/testdata/${f}.o`), `${pinDir}/p`], { encoding: 'utf8', timeout: 30_000 });
    const out = new Map<string, LibbpfLink>();
    let current: LibbpfLink | undefined;
    for (const line of run.stderr.split('\n')) {
      const added = /prog '([^']+)': added (\d+) insns from sub-prog '([^']+)'/.exec(line);
      if (added) {
        if (!out.has(added[1])) out.set(added[1], { added: [], placedAt: new Map() });
        current = out.get(added[1])!;
        current.added.push({ name: added[3], count: Number(added[2]) });
        continue;
      }
      const placed = /points to subprog '([^']+)' \(now at (\d+) offset\)/.exec(line);
      if (placed && current) current.placedAt.set(placed[1], Number(placed[2]));
      const main = /prog '([^']+)': insn #\d+ relocated/.exec(line);
      if (main && out.has(main[1])) current = out.get(main[1]);
    }
    return out;
  } finally {
    rmSync(pinDir, { recursive: true, force: true });
  }
}

describe.runIf(enabled)('linking agrees with libbpf', () => {
  for (const f of ['globals', 'cpuv4', 'maps', 'sections', 'strings'] as Fixture[]) {
    it(`appends the same subprograms at the same offsets as libbpf for ${f}.o`, () => {
      const spec = loadObject(fixtureBytes(f), { name: `${f}.o` });
      const libbpf = libbpfLinking(f);
      // globals.o links subprograms into every program: an empty log means bpftool did not run.
      if (f === 'globals') expect(libbpf.size).toBe(3);
      for (const p of spec.programs) {
        const ours = p.functions.slice(1);
        const theirs = libbpf.get(p.name) ?? { added: [], placedAt: new Map() };
        expect(ours.map((fn) => [fn.name, fn.length]), p.name).toEqual(theirs.added.map((a) => [a.name, a.count]));
        for (const [name, at] of theirs.placedAt) expect(ours.find((fn) => fn.name === name)?.start, `${p.name} → ${name}`).toBe(at);
      }
    });
  }
});
