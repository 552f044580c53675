import { describe, expect, it } from 'vitest';
import { encodeInsns } from '../../src/asm/insn.js';
import {
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  OP_CALL,
  OP_LDDW,
} from '../../src/asm/opcodes.js';
import { cloneObjectSpec, lineInfoAt, loadObject, mapIndexByName, programByName } from '../../src/loader/object.js';
import type { ObjectSpec, ProgramSpec } from '../../src/loader/spec.js';
import {
  BPF_ATTACH_TYPE,
  BPF_F_MMAPABLE,
  BPF_F_NO_PREALLOC,
  BPF_F_RDONLY_PROG,
  BPF_F_XDP_HAS_FRAGS,
  BPF_MAP_TYPE,
  BPF_PROG_TYPE,
  LIBBPF_PIN_BY_NAME,
} from '../../src/loader/uapi.js';
import { FIXTURES, fixtureBytes, objdumpFunctions, sourceLines, type Fixture } from './fixtures.js';

const load = (f: Fixture): ObjectSpec => loadObject(fixtureBytes(f), { name: `${f}.o` });
const prog = (spec: ObjectSpec, name: string): ProgramSpec => {
  const p = programByName(spec, name);
  if (!p) throw new Error(`no program ${name}`);
  return p;
};
const hex = (insns: ProgramSpec['insns'], from: number, n: number) =>
  Array.from(encodeInsns(insns.slice(from, from + n)), (b) => b.toString(16).padStart(2, '0'));

describe('programs', () => {
  it('finds one program per function in every executable section, several per section, none for .text', () => {
    expect(load('globals').programs.map((p) => `${p.section}:${p.name}`)).toEqual(['tc:first', 'tc:second', 'xdp:looper']);
    expect(load('maps').programs.map((p) => p.name)).toEqual(['tail_a', 'tail_b', 'use_maps']);
  });

  it('derives program type, expected attach type and flags from the section name as libbpf does', () => {
    const spec = load('sections');
    const summary = Object.fromEntries(
      spec.programs.map((p) => [p.name, [p.type, p.typeId, p.expectedAttachType?.name ?? null, p.flags]]),
    );
    expect(summary).toEqual({
      connect4: ['cgroup_sock_addr', BPF_PROG_TYPE.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, 'BPF_CGROUP_INET4_CONNECT', 0],
      recvmsg4: ['cgroup_sock_addr', BPF_PROG_TYPE.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, 'BPF_CGROUP_UDP4_RECVMSG', 0],
      xdp_frags: ['xdp', BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, 'BPF_XDP', BPF_F_XDP_HAS_FRAGS],
      xdp_plain: ['xdp', BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, 'BPF_XDP', 0],
      sock: ['socket_filter', BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER, null, 0],
      tc_ingress: ['sched_cls', BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS, 'BPF_TCX_INGRESS', 0],
      tcx_egress: ['sched_cls', BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS, 'BPF_TCX_EGRESS', 0],
    });
    expect(prog(spec, 'connect4').expectedAttachType?.id).toBe(BPF_ATTACH_TYPE.BPF_CGROUP_INET4_CONNECT);
    expect(prog(spec, 'xdp_frags').xdpFrags).toBe(true);
  });

  it('reads license and kernel version sections into the spec and every program', () => {
    const spec = load('sections');
    expect(spec.license).toBe('GPL');
    expect(spec.kernVersion).toBe(0x060100);
    expect(spec.programs.every((p) => p.license === 'GPL' && p.kernVersion === 0x060100)).toBe(true);
    expect(load('globals').license).toBe('Dual BSD/GPL');
  });

  it('appends reachable subprograms depth-first, each once, as libbpf does', () => {
    const spec = load('globals');
    const layout = (name: string) => prog(spec, name).functions.map((f) => `${f.name}@${f.start}+${f.length}`);
    // first → add_global → add_static (a static call inside .text, without relocation).
    expect(layout('first')).toEqual(['first@0+4', 'add_global@4+7', 'add_static@11+7']);
    expect(layout('second')).toEqual(['second@0+12', 'add_static@12+7']);
    expect(layout('looper')).toEqual(['looper@0+13', 'loop_cb@13+8']);
    for (const p of spec.programs) expect(p.insns.length).toBe(p.functions.reduce((n, f) => n + f.length, 0));
  });

  it('makes every pseudo call land on the first instruction of the called subprogram', () => {
    for (const f of FIXTURES) {
      for (const p of load(f).programs) {
        p.insns.forEach((insn, i) => {
          if (insn.opcode !== OP_CALL || insn.src !== BPF_PSEUDO_CALL) return;
          const target = i + insn.imm + 1;
          expect(p.functions.some((fn) => fn.start === target), `${p.name} insn ${i}`).toBe(true);
        });
      }
    }
    const first = prog(load('globals'), 'first');
    expect(first.insns[1]).toMatchObject({ opcode: OP_CALL, src: BPF_PSEUDO_CALL, imm: 2 }); // → add_global at 4
    expect(first.insns[9]).toMatchObject({ opcode: OP_CALL, src: BPF_PSEUDO_CALL, imm: 1 }); // add_global → add_static at 11
  });

  it('turns a callback address into BPF_PSEUDO_FUNC with a slot offset relative to the lddw', () => {
    const looper = prog(load('globals'), 'looper');
    const i = looper.insns.findIndex((insn) => insn.opcode === OP_LDDW && insn.src === BPF_PSEUDO_FUNC);
    expect(i).toBe(1);
    const loopCb = looper.functions.find((f) => f.name === 'loop_cb')!;
    expect(i + looper.insns[i].imm + 1).toBe(loopCb.start);
    expect(looper.insns[i + 1].imm).toBe(0);
  });

  it('keeps every instruction llvm-objdump shows except the relocated immediates', () => {
    for (const f of FIXTURES) {
      const dump = objdumpFunctions(f);
      if (!dump) return; // llvm-objdump-19 not installed: nothing to compare against
      for (const p of load(f).programs) {
        for (const fn of p.functions) {
          const expected = dump.get(fn.name);
          expect(expected, `${f}: ${fn.name} in objdump`).toBeDefined();
          expect(fn.length).toBe(expected!.length);
          for (let k = 0; k < fn.length; k++) {
            const got = hex(p.insns, fn.start + k, 1);
            const want = expected![k].split(' ');
            // opcode and offset always survive; registers and imm only where nothing was relocated.
            expect(got[0], `${fn.name}+${k}`).toBe(want[0]);
            expect(got.slice(2, 4), `${fn.name}+${k}`).toEqual(want.slice(2, 4));
            const touched =
              p.references.some((r) => r.insnIndex === fn.start + k || r.insnIndex + 1 === fn.start + k) ||
              (p.insns[fn.start + k].src === BPF_PSEUDO_CALL && p.insns[fn.start + k].opcode === OP_CALL) ||
              (p.insns[fn.start + k].opcode === OP_LDDW && p.insns[fn.start + k].src === BPF_PSEUDO_FUNC) ||
              (k > 0 && p.insns[fn.start + k - 1].opcode === OP_LDDW && p.insns[fn.start + k - 1].src === BPF_PSEUDO_FUNC);
            if (!touched) expect(got, `${fn.name}+${k}`).toEqual(want);
          }
        }
      }
    }
  });

  it('re-indexes line info to the linked program and points it at the right C source lines', () => {
    for (const f of FIXTURES) {
      const lines = sourceLines(f);
      for (const p of load(f).programs) {
        expect(p.lineInfo.length).toBeGreaterThan(0);
        for (const li of p.lineInfo) {
          expect(li.file).toMatch(new RegExp(`bpf/testdata/${f}\\.c$`));
          expect(li.insnIndex).toBeLessThan(p.insns.length);
          expect(lines[li.line - 1]).toBe(li.text);
        }
      }
    }
    const looper = prog(load('globals'), 'looper');
    const cb = looper.lineInfo.filter((l) => l.insnIndex >= 13);
    expect(cb.map((l) => l.text.trim())).toContain('scratch += index;');
  });

  it('attributes every instruction to the nearest preceding line of its own function', () => {
    const looper = prog(load('globals'), 'looper');
    expect(lineInfoAt(looper, 3)?.text.trim()).toBe('bpf_loop(4, loop_cb, 0, 0);');
    expect(lineInfoAt(looper, 8)?.text.trim()).toBe('return scratch > 3 ? XDP_PASS : XDP_DROP;');
    expect(lineInfoAt(looper, 13)?.text.trim()).toBe('scratch += index;'); // first insn of loop_cb
    expect(lineInfoAt(looper, looper.insns.length - 1)?.text.trim()).toBe('return 0;');
  });

  it('re-indexes func info so each appended function starts with its own FUNC record', () => {
    const spec = load('globals');
    for (const p of spec.programs) {
      expect(p.funcInfo.map((fi) => [fi.name, fi.insnIndex])).toEqual(p.functions.map((fn) => [fn.name, fn.start]));
      for (const fi of p.funcInfo) expect(spec.btf!.type(fi.btfTypeId).kind).toBe('func');
    }
  });
});

describe('maps and global data', () => {
  it('reads BTF-defined maps with types, sizes, flags, pinning and BTF key/value types', () => {
    const spec = load('maps');
    const m = (name: string) => spec.maps[mapIndexByName(spec, name)];
    expect(m('flows')).toMatchObject({ type: BPF_MAP_TYPE.BPF_MAP_TYPE_HASH, typeName: 'hash', keySize: 12, valueSize: 16, maxEntries: 1024, flags: BPF_F_NO_PREALLOC, section: '.maps' });
    expect(spec.btf!.describe(m('flows').keyTypeId!)).toBe('struct flow_key');
    expect(spec.btf!.describe(m('flows').valueTypeId!)).toBe('struct flow_stats');
    expect(m('lru')).toMatchObject({ typeName: 'lru_hash', keySize: 4, valueSize: 8, maxEntries: 128, pinning: LIBBPF_PIN_BY_NAME });
    expect(m('routes')).toMatchObject({ typeName: 'lpm_trie', keySize: 8, valueSize: 4, maxEntries: 64, flags: BPF_F_NO_PREALLOC });
    expect(m('counters')).toMatchObject({ typeName: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 4 });
    expect(m('counters').keyTypeId).toBeUndefined();
    expect(m('events')).toMatchObject({ typeName: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 });
  });

  it('reads PROG_ARRAY and map-in-map static values and the inner map template', () => {
    const spec = load('maps');
    const jump = spec.maps[mapIndexByName(spec, 'jump')];
    expect(jump).toMatchObject({ typeName: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 3 });
    expect(jump.contents).toEqual([
      { index: 0, target: 'tail_a', kind: 'program' },
      { index: 1, target: 'tail_b', kind: 'program' },
    ]);
    const outer = spec.maps[mapIndexByName(spec, 'outer')];
    expect(outer).toMatchObject({ typeName: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 4 });
    expect(outer.innerMap).toMatchObject({ name: 'outer.inner', typeName: 'array', keySize: 4, valueSize: 4, maxEntries: 2 });
    expect(outer.contents).toEqual([
      { index: 0, target: 'inner_a', kind: 'map' },
      { index: 2, target: 'inner_b', kind: 'map' },
    ]);
  });

  it('reads several legacy struct bpf_map_def definitions from the maps section', () => {
    const spec = load('legacy_maps');
    expect(spec.maps).toMatchObject([
      { name: 'legacy_hash', typeName: 'hash', keySize: 4, valueSize: 8, maxEntries: 16, flags: BPF_F_NO_PREALLOC, section: 'maps', origin: 'legacy' },
      { name: 'legacy_array', typeName: 'array', keySize: 4, valueSize: 4, maxEntries: 2, flags: 0, section: 'maps', origin: 'legacy' },
    ]);
    const p = prog(spec, 'use_legacy');
    expect(p.references.map((r) => [spec.maps[r.mapIndex].name, r.kind])).toEqual([
      ['legacy_hash', 'map'],
      ['legacy_array', 'map'],
    ]);
  });

  it('orders BTF-defined maps as libbpf does (DATASEC order, as bpftool gen skeleton lists them)', () => {
    expect(load('maps').maps.map((m) => m.name)).toEqual(['inner_a', 'inner_b', 'outer', 'jump', 'flows', 'counters', 'lru', 'routes', 'events']);
  });

  it('rewrites every map lddw to BPF_PSEUDO_MAP_IDX with the index of the map the C code named', () => {
    const spec = load('maps');
    const use = prog(spec, 'use_maps');
    const named = use.references.map((r) => spec.maps[r.mapIndex].name);
    expect(named).toEqual(['flows', 'counters', 'outer', 'lru', 'routes', 'events', 'jump']);
    for (const r of use.references) {
      expect(r.symbol).toBe(spec.maps[r.mapIndex].name);
      expect(use.insns[r.insnIndex]).toMatchObject({ opcode: OP_LDDW, src: BPF_PSEUDO_MAP_IDX, imm: r.mapIndex });
      expect(use.insns[r.insnIndex + 1].imm).toBe(0);
    }
  });

  it('makes global data sections one-entry array maps named as libbpf names them, with their bytes', () => {
    const spec = load('globals');
    expect(spec.maps.map((m) => [m.name, m.section, m.valueSize, m.readonly])).toEqual([
      ['globals.data', '.data', 4, false],
      ['globals.rodata', '.rodata', 10, true],
      ['.data.custom', '.data.custom', 4, false],
      ['globals.bss', '.bss', 40, false],
    ]);
    const rodata = spec.maps[1];
    expect(rodata).toMatchObject({ type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, maxEntries: 1 });
    expect(rodata.flags).toBe(BPF_F_RDONLY_PROG | BPF_F_MMAPABLE);
    expect(new DataView(rodata.initialValue!.buffer).getUint32(0, true)).toBe(42); // threshold
    expect(new TextDecoder().decode(rodata.initialValue!.subarray(4, 9))).toBe('hello'); // greeting
    expect(Array.from(spec.maps[0].initialValue!)).toEqual([7, 0, 0, 0]); // counter = 7
    expect(new DataView(spec.maps[2].initialValue!.buffer).getUint32(0, true)).toBe(0x11223344);
    expect(spec.maps[3].initialValue).toEqual(new Uint8Array(40));
    expect(spec.btf!.type(rodata.valueTypeId!)).toMatchObject({ kind: 'datasec', name: '.rodata' });
  });

  it('rewrites global variable lddw to BPF_PSEUDO_MAP_IDX_VALUE with the variable offset in the second slot', () => {
    const spec = load('globals');
    const bss = mapIndexByName(spec, 'globals.bss');
    const looper = prog(spec, 'looper');
    const scratch = looper.references.filter((r) => r.symbol === 'scratch');
    expect(scratch).toHaveLength(2); // once in looper, once in loop_cb
    for (const r of scratch) {
      expect(r).toMatchObject({ mapIndex: bss, offset: 32, kind: 'value' });
      expect(looper.insns[r.insnIndex]).toMatchObject({ opcode: OP_LDDW, src: BPF_PSEUDO_MAP_IDX_VALUE, imm: bss });
      expect(looper.insns[r.insnIndex + 1].imm).toBe(32);
    }
    const second = prog(spec, 'second');
    expect(second.references.map((r) => [spec.maps[r.mapIndex].name, r.offset])).toEqual([
      ['.data.custom', 0],
      ['globals.bss', 0],
      ['globals.rodata', 0],
    ]);
  });

  it('resolves string literals in .rodata.str1.1 through the section symbol plus the addend in imm', () => {
    const spec = load('strings');
    const str = spec.maps[mapIndexByName(spec, '.rodata.str1.1')];
    expect(str).toMatchObject({ section: '.rodata.str1.1', readonly: true, origin: 'global' });
    const p = prog(spec, 'printer');
    const text = (off: number) => {
      const bytes = str.initialValue!.subarray(off);
      return new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0)));
    };
    expect(p.references.map((r) => text(r.offset))).toEqual(['first %d\n', 'second\n']);
    expect(p.references.map((r) => r.offset)).toEqual([0, 10]);
  });

  it('loads an object built with -mcpu=v4', () => {
    const spec = load('cpuv4');
    const p = prog(spec, 'v4prog');
    expect(p.functions.map((f) => f.name)).toEqual(['v4prog', 'widen']);
    // -mcpu=v4 emits sign-extending moves / loads (BPF_MEMSX 0x80 class LDX, or movsx: ALU64 MOV with off != 0).
    const v4 = p.insns.some((i) => (i.opcode & 0xe7) === 0x81 || ((i.opcode === 0xbf || i.opcode === 0xbc) && i.off !== 0) || i.opcode === 0x3f && i.off === 1);
    expect(v4).toBe(true);
    expect(p.references.map((r) => spec.maps[r.mapIndex].name)).toEqual(['cpuv4.data']);
  });

  it('places __kconfig externs in a read-only .kconfig map laid out as libbpf lays it out', () => {
    const spec = load('kconfig');
    const kconfig = spec.maps[mapIndexByName(spec, 'kconfig.kconfig')];
    // Sorted by alignment (descending), then size: CONFIG_HZ (u64) at 0, LINUX_KERNEL_VERSION (u32) at 8, CONFIG_BPF_SYSCALL (bool) at 12.
    expect(kconfig).toMatchObject({ section: '.kconfig', origin: 'kconfig', valueSize: 13, maxEntries: 1, readonly: true, flags: BPF_F_RDONLY_PROG });
    const p = prog(spec, 'uses_kconfig');
    expect(p.references.map((r) => [r.symbol, r.offset])).toEqual([
      ['CONFIG_BPF_SYSCALL', 12],
      ['CONFIG_HZ', 0],
      ['LINUX_KERNEL_VERSION', 8],
    ]);
    for (const r of p.references) {
      expect(p.insns[r.insnIndex]).toMatchObject({ src: BPF_PSEUDO_MAP_IDX_VALUE, imm: mapIndexByName(spec, 'kconfig.kconfig') });
      expect(p.insns[r.insnIndex + 1].imm).toBe(r.offset);
    }
    const datasec = spec.btf!.type(kconfig.valueTypeId!);
    expect(datasec.kind === 'datasec' && datasec.size).toBe(13);
  });

  it('records CO-RE relocations against the linked program without changing the instructions', () => {
    const spec = load('core');
    const p = prog(spec, 'core_reader');
    const kinds = p.coreRelos.map((r) => r.kindName);
    expect(kinds).toContain('BPF_CORE_FIELD_EXISTS');
    expect(kinds).toContain('BPF_CORE_TYPE_SIZE');
    expect(kinds).toContain('BPF_CORE_FIELD_BYTE_OFFSET');
    for (const r of p.coreRelos) {
      expect(r.insnIndex).toBeLessThan(p.insns.length);
      expect(spec.btf!.describe(r.btfTypeId)).toBe('struct pkt_meta');
    }
    // The proto field (member 1, "0:1") is read at its local byte offset 4.
    const proto = p.coreRelos.find((r) => r.kindName === 'BPF_CORE_FIELD_BYTE_OFFSET' && r.accessString === '0:1')!;
    expect(p.insns[proto.insnIndex].off).toBe(4);
  });

  it('returns -1 from mapIndexByName for a map that does not exist', () => {
    expect(mapIndexByName(load('maps'), 'nope')).toBe(-1);
  });

  it('clones a spec deeply so that edits to the copy leave the original alone', () => {
    const original = load('maps');
    const copy = cloneObjectSpec(original);
    copy.programs[2].insns[0].imm = 77;
    copy.maps[2].contents![0].target = 'inner_b';
    copy.maps[2].innerMap!.maxEntries = 99;
    expect(original.programs[2].insns[0].imm).not.toBe(77);
    expect(original.maps[2].contents![0].target).toBe('inner_a');
    expect(original.maps[2].innerMap!.maxEntries).toBe(2);
    expect(copy.btf).toBe(original.btf);
  });

  it('produces independent specs: editing one load does not change the next', () => {
    const a = load('globals');
    a.maps[0].initialValue![0] = 99;
    a.programs[0].insns[0].imm = 1234;
    const b = load('globals');
    expect(b.maps[0].initialValue![0]).toBe(7);
    expect(b.programs[0].insns[0].imm).not.toBe(1234);
  });
});
