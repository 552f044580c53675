import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PlaygroundEngine } from '../../src/playground/engine/engine.js';
import type { ObjectDescription, WorkerToPage, WorkspaceFile } from '../../src/playground/protocol.js';

const file = (path: string): WorkspaceFile => ({ path, bytes: new Uint8Array(readFileSync(path)) });

async function describeObject(files: WorkspaceFile[], object: string): Promise<WorkerToPage> {
  const replies: WorkerToPage[] = [];
  await new PlaygroundEngine().handle({ type: 'describe', requestId: 7, files, object }, (r) => replies.push(r));
  expect(replies).toHaveLength(1);
  return replies[0];
}

describe('playground engine: describe', () => {
  it('lists the programs of nodeport.o with section, type, attach point and size, and says it has line info', async () => {
    const reply = await describeObject([file('fixtures/obj/kpr/nodeport.o')], 'fixtures/obj/kpr/nodeport.o');
    expect(reply.type).toBe('described');
    const d = (reply as { description: ObjectDescription }).description;
    expect(d.path).toBe('fixtures/obj/kpr/nodeport.o');
    expect(d.hasLineInfo).toBe(true);
    const ingress = d.programs.find((p) => p.name === 'nodeport_ingress');
    expect(ingress).toMatchObject({ section: 'tc', type: 'sched_cls', attach: 'tc/ingress' });
    expect(ingress!.insns).toBeGreaterThan(100);
  });

  it('gives cgroup socket address programs their section as attach point', async () => {
    const reply = await describeObject([file('fixtures/obj/kpr/sock.o')], 'fixtures/obj/kpr/sock.o');
    const programs = (reply as { description: ObjectDescription }).description.programs;
    expect(programs.length).toBeGreaterThan(0);
    for (const p of programs) expect(p.attach).toBe(p.section.startsWith('cgroup/') ? p.section : p.attach);
    expect(programs.map((p) => p.attach)).toContain('cgroup/connect4');
  });

  it('gives each map its type, sizes and the BTF field layout the typed map API shows', async () => {
    const reply = await describeObject([file('fixtures/obj/kpr/nodeport.o')], 'fixtures/obj/kpr/nodeport.o');
    const d = (reply as { description: ObjectDescription }).description;
    const ct4 = d.maps.find((m) => m.name === 'ct4')!;
    expect(ct4).toMatchObject({ type: 'lru_hash', keySize: 16 });
    expect(ct4.maxEntries).toBeGreaterThan(0);
    const kinds = (fields: { path: string; kind: string }[]) => Object.fromEntries(fields.map((f) => [f.path, f.kind]));
    expect(kinds(ct4.keyFields)).toEqual({ saddr: 'ip4', daddr: 'ip4', sport: 'number', dport: 'number', proto: 'number', dir: 'number', 'pad.0': 'number', 'pad.1': 'number' });
    expect(ct4.keyFields.find((f) => f.path === 'sport')!.btfType).toBe('__be16');
    expect(kinds(ct4.valueFields)).toMatchObject({ expires_ns: 'bigint', frontend_addr: 'ip4', frontend_port: 'number', packets: 'bigint' });
    const stats = d.maps.find((m) => m.name === 'np_stats')!;
    expect(stats.keyFields).toEqual([{ path: '', kind: 'number', btfType: '__u32' }]);
  });

  it('shows IPv6 addresses, MACs and char arrays as the typed map API does', async () => {
    const reply = await describeObject([file('fixtures/obj/typed/lb_types.o')], 'fixtures/obj/typed/lb_types.o');
    const ct6 = (reply as { description: ObjectDescription }).description.maps.find((m) => m.name === 'ct6')!;
    const kinds = (fields: { path: string; kind: string }[]) => Object.fromEntries(fields.map((f) => [f.path, f.kind]));
    expect(kinds(ct6.keyFields)).toEqual({ saddr: 'ip6', daddr: 'ip6', sport: 'number', dport: 'number', nexthdr: 'number', flags: 'number' });
    expect(kinds(ct6.valueFields)).toEqual({ to_mac: 'mac', to_saddr: 'ip4', to_sport: 'number', created: 'bigint', name: 'string' });
    expect(ct6.keyFields[0].btfType).toBe('union v6addr');
  });

  it('passes the loader error for a broken object back as an error reply', async () => {
    const reply = await describeObject([file('fixtures/broken/x86-machine.o')], 'fixtures/broken/x86-machine.o');
    expect(reply).toEqual({ type: 'error', requestId: 7, message: expect.stringMatching(/^describe fixtures\/broken\/x86-machine\.o: .*(machine|EM_|BPF)/i) });
  });

  it('says so when the object is not in the workspace', async () => {
    const reply = await describeObject([], 'nope.o');
    expect(reply).toMatchObject({ type: 'error', requestId: 7, message: expect.stringContaining('nope.o: not in the workspace') });
  });
});
