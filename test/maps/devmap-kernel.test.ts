// DEVMAP, DEVMAP_HASH, CPUMAP and XSKMAP from the host (the bpf(2) syscall's side) against the
// running kernel: the same script of creates, updates, lookups, deletes and get_next_key runs on
// the kernel (a small libbpf program, built here with cc, as oracle/lru-oracle.c is) and on
// bpfbed's maps, and every answer must be the same. Needs root (kernelAvailable() says why it
// is skipped). The kernel's world: ifindex 1 (lo) exists, 999 does not; fd 200 is no program;
// fd 300 is no socket. bpfbed's maps get the same answers from their resolvers.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelAvailable } from '../../src/node/kernel.js';
import { createMap, MapRegistry } from '../../src/maps/registry.js';
import { XskMap } from '../../src/maps/xskmap.js';
import type { BpfMap } from '../../src/maps/types.js';
import { Machine } from '../../src/vm/machine.js';

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`redirect map kernel comparison skipped: ${kernel.why}`);

// Reads one operation per line, prints one answer per line (errno negated, as the maps return).
const ORACLE = String.raw`
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
int main(void) {
  char op[16]; int fds[64]; int n = 0;
  while (scanf("%15s", op) == 1) {
    if (!strcmp(op, "create")) {
      unsigned t, ks, vs, max, fl; scanf("%u %u %u %u %u", &t, &ks, &vs, &max, &fl);
      LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = fl);
      int fd = bpf_map_create(t, "oracle", ks, vs, max, &o);
      if (fd < 0) { printf("%d\n", -errno); continue; }
      fds[n] = fd; printf("map %d\n", n++);
    } else if (!strcmp(op, "update")) {
      unsigned m, k, f, w[2] = {0, 0}, nw; scanf("%u %u %u %u", &m, &k, &f, &nw);
      for (unsigned i = 0; i < nw; i++) scanf("%u", &w[i]);
      printf("%d\n", bpf_map_update_elem(fds[m], &k, w, f) ? -errno : 0);
    } else if (!strcmp(op, "delete")) {
      unsigned m, k; scanf("%u %u", &m, &k);
      printf("%d\n", bpf_map_delete_elem(fds[m], &k) ? -errno : 0);
    } else if (!strcmp(op, "lookup")) {
      unsigned m, k, w[2] = {0, 0}; scanf("%u %u", &m, &k);
      if (bpf_map_lookup_elem(fds[m], &k, w)) printf("%d\n", -errno); else printf("0 %u %u\n", w[0], w[1]);
    } else if (!strcmp(op, "next")) {
      unsigned m, k, next = 0; int from; scanf("%u %d", &m, &from); k = from;
      if (bpf_map_get_next_key(fds[m], from < 0 ? NULL : &k, &next)) printf("%d\n", -errno); else printf("0 %u\n", next);
    }
    fflush(stdout);
  }
  return 0;
}
`;

function runOracle(script: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'bpfbed-devmap-'));
  writeFileSync(join(dir, 'oracle.c'), ORACLE);
  execFileSync('cc', ['-O1', '-o', join(dir, 'oracle'), join(dir, 'oracle.c'), '-lbpf'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return execFileSync(join(dir, 'oracle'), { input: script }).toString().trim().split('\n');
}

/** num_possible_cpus() */
function possibleCpus(): number {
  const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
  return text.split(',').reduce((n, part) => {
    const [lo, hi] = part.split('-').map(Number);
    return n + (hi === undefined ? 1 : hi - lo + 1);
  }, 0);
}

const u32 = (n: number) => new Uint8Array(Uint32Array.of(n >>> 0).buffer);
const words = (b: Uint8Array) => {
  const w = [0, 0];
  for (let i = 0; i < b.length / 4; i++) w[i] = new DataView(b.buffer, b.byteOffset).getUint32(i * 4, true);
  return w;
};

/** The same script on bpfbed's maps, with the kernel's answers' format. */
async function runBpfbed(script: string, nrCpus: number): Promise<string[]> {
  const machine = await Machine.create();
  const registry = new MapRegistry();
  const maps: BpfMap[] = [];
  const out: string[] = [];
  const valueSizes: number[] = [];
  for (const line of script.trim().split('\n')) {
    const [op, ...a] = line.trim().split(/\s+/);
    const n = a.map(Number);
    switch (op) {
      case 'create':
        try {
          const m = createMap(machine, { name: 'oracle', type: n[0], keySize: n[1], valueSize: n[2], maxEntries: n[3], flags: n[4] }, {
            nrCpus,
            registry,
            deviceExists: (ifindex) => ifindex === 1,
            progExists: () => false,
          });
          if (m instanceof XskMap) m.socketExists = () => false;
          valueSizes.push(n[2]);
          out.push(`map ${maps.length}`);
          maps.push(m);
        } catch {
          out.push('refused');
        }
        break;
      case 'update': {
        const [m, k, f, nw, ...w] = n;
        const value = new Uint8Array(valueSizes[m]);
        for (let i = 0; i < nw; i++) value.set(u32(w[i]), i * 4);
        out.push(String(maps[m].update(u32(k), value, f)));
        break;
      }
      case 'delete':
        out.push(String(maps[n[0]].delete(u32(n[1]))));
        break;
      case 'lookup': {
        const m = maps[n[0]];
        const v = m.read(u32(n[1]));
        if (v) out.push(`0 ${words(v).join(' ')}`);
        else out.push(String(m instanceof XskMap ? m.readErrno() : -2));
        break;
      }
      case 'next': {
        const next = maps[n[0]].getNextKey(n[1] < 0 ? undefined : u32(n[1]));
        out.push(next ? `0 ${words(next)[0]}` : '-2');
        break;
      }
    }
  }
  return out;
}

const DEVMAP = 14;
const CPUMAP = 16;
const XSKMAP = 17;
const DEVMAP_HASH = 25;

// Creation: kernel errors show as a negative errno there and as "refused" in bpfbed.
const CREATES = [
  `create ${DEVMAP} 4 4 4 0`,
  `create ${DEVMAP} 4 12 4 0`,
  `create ${DEVMAP} 8 4 4 0`,
  `create ${DEVMAP} 4 4 0 0`,
  `create ${DEVMAP} 4 4 4 1`, // BPF_F_NO_PREALLOC
  `create ${DEVMAP} 4 4 4 128`, // BPF_F_RDONLY_PROG: added by the kernel, refused from the caller
  `create ${DEVMAP_HASH} 4 8 4 0`,
  `create ${CPUMAP} 4 4 4 8`, // BPF_F_RDONLY
  `create ${CPUMAP} 4 12 4 0`,
  `create ${CPUMAP} 4 4 100000 0`, // more than NR_CPUS
  `create ${XSKMAP} 4 8 4 0`,
  `create ${XSKMAP} 4 4 4 0`,
];

// Each block starts with a create that both accept (map 0, 1, ...).
const SCRIPT = `
create ${DEVMAP} 4 8 4 0
update 0 0 0 2 1 0
update 0 1 0 2 999 0
update 0 4 0 2 1 0
update 0 1 1 2 1 0
update 0 1 2 2 1 0
update 0 1 4 2 1 0
update 0 2 0 2 0 5
update 0 2 0 2 0 0
update 0 2 0 2 1 4294967295
update 0 2 0 2 1 200
lookup 0 0
lookup 0 1
lookup 0 2
lookup 0 3
lookup 0 4
delete 0 3
delete 0 4
delete 0 0
lookup 0 0
next 0 -1
next 0 2
next 0 3
next 0 9
create ${DEVMAP} 4 4 4 0
update 1 1 0 1 1
lookup 1 1
update 1 1 0 1 0
lookup 1 1
create ${DEVMAP_HASH} 4 4 3 0
update 2 5 0 1 0
update 2 5 0 1 999
update 2 5 2 1 1
update 2 5 1 1 1
update 2 100 0 1 1
update 2 7 0 1 1
update 2 1 0 1 1
update 2 12 0 1 999
update 2 5 0 1 1
next 2 -1
next 2 100
next 2 5
next 2 7
next 2 42
lookup 2 100
lookup 2 42
delete 2 42
delete 2 7
next 2 5
update 2 1 0 1 1
next 2 -1
next 2 1
create ${CPUMAP} 4 8 4 0
update 3 0 0 2 0 0
lookup 3 0
update 3 0 0 2 16385 0
update 3 3 0 2 64 0
update 3 4 0 2 64 0
update 3 1 1 2 64 0
update 3 3 0 2 16385 0
update 3 1 0 2 64 300
update 3 1 2 2 64 0
lookup 3 1
lookup 3 2
delete 3 7
delete 3 2
delete 3 1
lookup 3 1
next 3 -1
next 3 3
create ${XSKMAP} 4 4 4 0
lookup 4 0
lookup 4 9
update 4 0 0 1 300
update 4 9 0 1 300
update 4 0 4 1 300
delete 4 0
delete 4 9
next 4 9
next 4 3
`;

describe.skipIf(!kernel.ok)('redirect maps from the host, against the kernel', () => {
  it('creation refuses what the kernel refuses', async () => {
    const script = CREATES.join('\n');
    const theirs = runOracle(script).map((r) => (r.startsWith('map') ? 'accepted' : 'refused'));
    const ours = (await runBpfbed(script, possibleCpus())).map((r) => (r.startsWith('map') ? 'accepted' : 'refused'));
    expect(ours.map((r, i) => `${CREATES[i]}: ${r}`)).toEqual(theirs.map((r, i) => `${CREATES[i]}: ${r}`));
  });

  it('updates, lookups, deletes and get_next_key answer as the kernel does', async () => {
    const lines = SCRIPT.trim().split('\n');
    const theirs = runOracle(SCRIPT);
    const ours = await runBpfbed(SCRIPT, possibleCpus());
    expect(ours.map((r, i) => `${lines[i]} -> ${r}`)).toEqual(theirs.map((r, i) => `${lines[i]} -> ${r}`));
  });
});
