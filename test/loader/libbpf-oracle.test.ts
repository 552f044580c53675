// Differential check of the section table against the system's libbpf
// (libbpf_prog_type_by_name), compiled into a tiny helper with clang. Entries newer
// than the installed libbpf are unknown to it and skipped. Runs only where clang-19 and
// libbpf-dev are installed; never needs root.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { programTypeForSection, SECTION_DEFS } from '../../src/loader/sections.js';

const HELPER = `
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
int main(void) {
	char line[256];
	libbpf_set_print(NULL);
	while (fgets(line, sizeof(line), stdin)) {
		enum bpf_prog_type pt; enum bpf_attach_type at;
		line[strcspn(line, "\\n")] = 0;
		if (libbpf_prog_type_by_name(line, &pt, &at)) printf("-\\n");
		else printf("%d %d\\n", pt, at);
	}
	return 0;
}
`;

function libbpfAnswers(names: string[]): (readonly [number, number] | undefined)[] | undefined {
  if (!existsSync('/usr/include/bpf/libbpf.h')) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'bpfbed-sec-'));
  try {
    writeFileSync(join(dir, 'sec.c'), HELPER);
    const cc = spawnSync('clang-19', ['-O1', join(dir, 'sec.c'), '-lbpf', '-o', join(dir, 'sec')], { encoding: 'utf8' });
    if (cc.status !== 0) return undefined;
    const run = spawnSync(join(dir, 'sec'), { input: names.join('\n') + '\n', encoding: 'utf8' });
    return run.stdout.trimEnd().split('\n').map((l) => (l === '-' ? undefined : ([Number(l.split(' ')[0]), Number(l.split(' ')[1])] as const)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('section table agrees with the installed libbpf', () => {
  // Concrete names for every pattern, plus near misses that must not match.
  const names = SECTION_DEFS.flatMap((d) => {
    if (d.pattern.endsWith('+')) return [d.pattern.slice(0, -1), `${d.pattern.slice(0, -1)}/target`];
    if (d.pattern.endsWith('/')) return [`${d.pattern}target`];
    return [d.pattern, `${d.pattern}/extra`];
  });
  const answers = libbpfAnswers(names);

  it.runIf(answers !== undefined)('gives the same program type and expected attach type for every name libbpf knows', () => {
    let compared = 0;
    names.forEach((name, i) => {
      const theirs = answers![i];
      if (!theirs) return; // newer than the installed libbpf, or not a section name to it either
      const ours = programTypeForSection(name);
      expect(ours, name).toBeDefined();
      expect([ours!.typeId, ours!.expectedAttachType?.id ?? 0], name).toEqual([theirs[0], theirs[1]]);
      compared++;
    });
    expect(compared).toBeGreaterThan(60);
  });
});
