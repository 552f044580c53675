// A socket scenario in the real kernel. The cgroup socket address hooks cannot be test-run
// (BPF_PROG_TEST_RUN has no cgroup/sock_addr support, net/bpf/test_run.c), so: the object is
// loaded with bpftool, the map entries bpfbed derived from the scenario are written byte for
// byte, each program is attached to a fresh cgroup v2 of the workspace at its hook, and a python3
// process (socket-app.ts) moves itself into that cgroup, enters a fresh network namespace built
// from the scenario's environment (the servers' addresses on its loopback device) and makes the
// scenario's calls on real sockets. Then every map is dumped.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CtxRunner } from '../../ctx/runner.js';
import { normalizeEndpoint, type SocketFacts } from '../../scenario/parity.js';
import { splitEndpoint, type SocketSeen } from '../../scenario/socket-run.js';
import type { Scenario } from '../../scenario/types.js';
import { holdsFds } from '../kernel-scenario.js';
import { buildNetns } from './netns.js';
import { SOCKET_APP_PY } from './socket-app.js';
import { must, run, type Workspace } from './workspace.js';

export interface KernelSocketResult {
  /** What the application saw, one per call of the scenario. */
  calls: SocketSeen[];
  sockets: SocketFacts[];
  /** Every map's entries afterwards, as raw bytes, by map name. */
  maps: Record<string, { key: Uint8Array; value: Uint8Array }[]>;
}

const hexArgs = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0'));
const unhex = (h: string[]) => Uint8Array.from(h, (x) => parseInt(x, 16));

/** Whether this machine can run socket scenarios in the kernel (beyond BPF itself). */
export function socketKernelAvailable(): { ok: boolean; why?: string } {
  if (run('python3', ['-V']).status !== 0) return { ok: false, why: 'python3 missing' };
  if (run('ip', ['-V']).status !== 0) return { ok: false, why: 'ip (iproute2) missing' };
  if (run('nsenter', ['--version']).status !== 0) return { ok: false, why: 'nsenter (util-linux) missing' };
  return { ok: true };
}

/**
 * Runs the scenario's socket calls in the kernel. `prepared` is a CtxRunner set up from the same
 * scenario (its maps are what the kernel's maps get); `objectPath` the object's file.
 */
export function runSocketScenarioInKernel(scenario: Scenario, objectPath: string, prepared: CtxRunner, ws: Workspace): KernelSocketResult {
  const script = scenario.sockets!;
  const dir = ws.pinDir('sockets');
  const progs = join(dir, 'progs');
  const maps = join(dir, 'maps');
  must('bpftool', ['prog', 'loadall', objectPath, progs, 'pinmaps', maps], `bpftool prog loadall ${objectPath}`);
  for (const map of prepared.bed.maps) {
    if (map.name.includes('.') || holdsFds(map.type)) continue;
    for (const e of map.dump().entries) {
      must('bpftool', ['map', 'update', 'pinned', join(maps, map.name), 'key', 'hex', ...hexArgs(e.key), 'value', 'hex', ...hexArgs(e.value)], `bpftool map update ${map.name}`);
    }
  }
  const cgroup = ws.cgroup();
  for (const p of scenario.programs) ws.attach(cgroup, p.attach.slice('cgroup/'.length), join(progs, p.program));

  const ns = buildNetns(ws, scenario.environment ?? {});
  try {
    // every server address is local in the namespace (on lo: any address there is local)
    const addrs = new Set((script.servers ?? []).map((s) => splitEndpoint(s.tcp ?? s.udp!).addr));
    for (const a of addrs) {
      if (a.startsWith('127.') || a === '::1') continue;
      must('ip', ['-n', ns, 'addr', 'add', a.includes(':') ? `${a}/128` : `${a}/32`, 'dev', 'lo', ...(a.includes(':') ? ['nodad'] : [])], `ip addr add ${a} (server)`);
    }
    const input = JSON.stringify({ servers: script.servers ?? [], calls: script.calls });
    const r = run('sh', ['-c', `echo $$ > '${cgroup}/cgroup.procs' && exec nsenter --net=/run/netns/${ns} python3 -c "$0"`, SOCKET_APP_PY], { input, timeoutMs: 120_000 });
    if (r.status !== 0) throw new Error(`the application in the kernel's cgroup failed: ${r.stderr.trim().split('\n').slice(-4).join(' ')}`);
    const out = JSON.parse(r.stdout) as { calls: SocketSeen[]; cookies: Record<string, string> };
    const sockets: SocketFacts[] = Object.entries(out.cookies).map(([name, cookie]) => {
      const first = script.calls.findIndex((c, i) => c.socket === name && out.calls[i]?.reached !== undefined);
      return { name, cookie: BigInt(cookie), ...(first >= 0 ? { reached: splitEndpoint(normalizeEndpoint(out.calls[first].reached!)) } : {}) };
    });
    const dumped: KernelSocketResult['maps'] = {};
    for (const map of prepared.bed.maps) {
      const pin = join(maps, map.name);
      if (map.name.includes('.') || holdsFds(map.type) || !existsSync(pin)) continue;
      const entries = JSON.parse(must('bpftool', ['--json', 'map', 'dump', 'pinned', pin], `bpftool map dump ${map.name}`)) as { key?: string[]; value?: string[] }[];
      dumped[map.name] = entries.filter((e) => Array.isArray(e.key) && Array.isArray(e.value)).map((e) => ({ key: unhex(e.key!), value: unhex(e.value!) }));
    }
    return { calls: out.calls, sockets, maps: dumped };
  } finally {
    ws.deleteNetns(ns);
  }
}
