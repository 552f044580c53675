// Helpers shared by the loader tests: the compiled fixtures under fixtures/obj/testdata.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES = ['maps', 'globals', 'sections', 'cpuv4', 'btf_types', 'kconfig', 'legacy_maps', 'strings', 'core'] as const;
export type Fixture = (typeof FIXTURES)[number];

export const repoPath = (rel: string) => fileURLToPath(new URL(`../../${rel}`, import.meta.url));

export function fixtureBytes(name: Fixture): Uint8Array {
  return new Uint8Array(readFileSync(repoPath(`fixtures/obj/testdata/${name}.o`)));
}

export function sourceLines(name: Fixture): string[] {
  return readFileSync(repoPath(`bpf/testdata/${name}.c`), 'utf8').split('\n');
}

/** Instruction bytes per function, as llvm-objdump -d prints them; undefined without llvm-objdump-19. */
export function objdumpFunctions(name: Fixture): Map<string, string[]> | undefined {
  let out: string;
  try {
    out = execFileSync('llvm-objdump-19', ['-d', repoPath(`fixtures/obj/testdata/${name}.o`)], { encoding: 'utf8' });
  } catch {
    return undefined;
  }
  const funcs = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of out.split('\n')) {
    const head = /^[0-9a-f]+ <([^>]+)>:$/.exec(line);
    if (head) {
      current = [];
      funcs.set(head[1], current);
      continue;
    }
    // "      12:	18 01 00 00 ... 	r1 = 0x0 ll": one entry per 8-byte slot.
    const insn = /^\s+\d+:\t([0-9a-f]{2}(?: [0-9a-f]{2})*)/.exec(line);
    if (insn && current) {
      const bytes = insn[1].trim().split(' ');
      for (let i = 0; i < bytes.length; i += 8) current.push(bytes.slice(i, i + 8).join(' '));
    }
  }
  return funcs;
}
