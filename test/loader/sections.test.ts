import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { adjustRingbufSize } from '../../src/loader/maps.js';
import { findSectionDef, programTypeForSection, SECTION_DEFS, sectionDefMatches } from '../../src/loader/sections.js';
import { BPF_ATTACH_TYPE, BPF_MAP_TYPE, BPF_PROG_TYPE, mapTypeName, progTypeName } from '../../src/loader/uapi.js';

const summary = (section: string) => {
  const t = programTypeForSection(section);
  return t && [t.type, t.expectedAttachType?.name ?? null, t.sleepable, t.xdpFrags];
};

describe("libbpf's section names", () => {
  it('maps the networking sections to their program and attach types', () => {
    expect(summary('tc')).toEqual(['sched_cls', null, false, false]);
    expect(summary('classifier')).toEqual(['sched_cls', null, false, false]);
    expect(summary('action')).toEqual(['sched_act', null, false, false]);
    expect(summary('tc/ingress')).toEqual(['sched_cls', 'BPF_TCX_INGRESS', false, false]);
    expect(summary('tcx/egress')).toEqual(['sched_cls', 'BPF_TCX_EGRESS', false, false]);
    expect(summary('xdp')).toEqual(['xdp', 'BPF_XDP', false, false]);
    expect(summary('xdp.frags')).toEqual(['xdp', 'BPF_XDP', false, true]);
    expect(summary('xdp.frags/devmap')).toEqual(['xdp', 'BPF_XDP_DEVMAP', false, true]);
    expect(summary('socket')).toEqual(['socket_filter', null, false, false]);
    expect(summary('cgroup/connect4')).toEqual(['cgroup_sock_addr', 'BPF_CGROUP_INET4_CONNECT', false, false]);
    expect(summary('cgroup/recvmsg4')).toEqual(['cgroup_sock_addr', 'BPF_CGROUP_UDP4_RECVMSG', false, false]);
    expect(summary('cgroup/getpeername4')).toEqual(['cgroup_sock_addr', 'BPF_CGROUP_INET4_GETPEERNAME', false, false]);
    expect(summary('cgroup_skb/ingress')).toEqual(['cgroup_skb', 'BPF_CGROUP_INET_INGRESS', false, false]);
    expect(summary('sk_lookup')).toEqual(['sk_lookup', 'BPF_SK_LOOKUP', false, false]);
  });

  it("matches 'name+' entries exactly or followed by '/', and plain entries only exactly", () => {
    expect(summary('kprobe/do_sys_open')).toEqual(['kprobe', null, false, false]);
    expect(summary('kprobe')).toEqual(['kprobe', null, false, false]);
    expect(programTypeForSection('kprobex')).toBeUndefined();
    expect(programTypeForSection('tc/something')).toBeUndefined();
    expect(programTypeForSection('xdp/foo')).toBeUndefined();
    expect(programTypeForSection('socket1')).toBeUndefined();
    expect(summary('uprobe.s/bin:func')).toEqual(['kprobe', null, true, false]);
    expect(summary('fentry.s/bpf_fentry_test1')).toEqual(['tracing', 'BPF_TRACE_FENTRY', true, false]);
    expect(sectionDefMatches('lsm+', 'lsm.s/file_open')).toBe(false);
  });

  it('takes the first matching entry in table order', () => {
    expect(findSectionDef('sk_reuseport/migrate')?.pattern).toBe('sk_reuseport/migrate');
    expect(findSectionDef('sk_reuseport')?.pattern).toBe('sk_reuseport');
    expect(findSectionDef('tc/ingress')?.pattern).toBe('tc/ingress');
  });

  it('has one entry per pattern', () => {
    const patterns = SECTION_DEFS.map((d) => d.pattern);
    expect(new Set(patterns).size).toBe(patterns.length);
  });
});

describe('uapi enums', () => {
  it('uses the numbering of the installed uapi header for every enum entry it has', () => {
    const header = '/usr/include/linux/bpf.h';
    if (!existsSync(header)) return;
    const text = readFileSync(header, 'utf8');
    const entries = (name: string) => {
      const body = new RegExp(`enum ${name} \\{([^}]*)\\}`).exec(text)![1];
      return body
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .split(',')
        .map((s) => s.trim().split(/\s|=/)[0])
        .filter((s) => s && !s.startsWith('__'));
    };
    const check = (name: string, table: Record<string, number>) => {
      const names = entries(name);
      expect(names.length).toBeGreaterThan(20);
      names.forEach((n, i) => expect(table[n], n).toBe(i));
    };
    check('bpf_map_type', BPF_MAP_TYPE);
    check('bpf_prog_type', BPF_PROG_TYPE);
    check('bpf_attach_type', BPF_ATTACH_TYPE);
  });

  it("spells type names as libbpf prints them", () => {
    expect(mapTypeName(BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_HASH)).toBe('lru_hash');
    expect(mapTypeName(BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY_OF_MAPS)).toBe('array_of_maps');
    expect(progTypeName(BPF_PROG_TYPE.BPF_PROG_TYPE_CGROUP_SOCK_ADDR)).toBe('cgroup_sock_addr');
    expect(mapTypeName(999)).toBe('unknown(999)');
  });
});

describe('ring buffer sizes', () => {
  it('rounds a ring buffer size up to a power-of-2 number of pages as libbpf does', () => {
    expect(adjustRingbufSize(4096)).toBe(4096);
    expect(adjustRingbufSize(1)).toBe(4096);
    expect(adjustRingbufSize(3 * 4096)).toBe(4 * 4096);
    expect(adjustRingbufSize(256 * 1024)).toBe(256 * 1024);
    expect(adjustRingbufSize(0)).toBe(0);
  });
});
