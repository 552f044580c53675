import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadObject, ObjectLoadError } from '../../src/loader/object.js';
import type { ObjectSpec } from '../../src/loader/spec.js';
import { edited, prng, rawSections, section } from './elf-edit.js';
import { FIXTURES, fixtureBytes, repoPath } from './fixtures.js';

/** Loads and returns the error, failing the test if loading succeeds or throws anything else. */
function loadError(bytes: Uint8Array, name = 'broken.o'): ObjectLoadError {
  try {
    loadObject(bytes, { name });
  } catch (e) {
    expect(e).toBeInstanceOf(ObjectLoadError);
    return e as ObjectLoadError;
  }
  throw new Error('expected loadObject to fail');
}

const globals = fixtureBytes('globals');
const maps = fixtureBytes('maps');

describe('broken ELF headers', () => {
  it('rejects a 32-bit object', () => {
    expect(loadError(edited(globals, (_, b) => (b[4] = 1))).message).toMatch(/ELFCLASS64/);
  });

  it('rejects a big-endian (bpfeb) object with a clear message', () => {
    expect(loadError(edited(globals, (_, b) => (b[5] = 2))).message).toMatch(/big-endian.*bpfeb/);
  });

  it('rejects an object for another machine', () => {
    const err = loadError(new Uint8Array(readFileSync(repoPath('fixtures/broken/x86-machine.o'))), 'x86-machine.o');
    expect(err.message).toBe('x86-machine.o: ELF machine 62 is not EM_BPF (247)');
  });

  it('rejects something that is not ELF at all', () => {
    expect(loadError(new TextEncoder().encode('#!/bin/sh\necho hello\n')).message).toMatch(/not an ELF file/);
    expect(loadError(new Uint8Array(0)).message).toMatch(/too short/);
  });

  it('rejects the committed truncated object', () => {
    const err = loadError(new Uint8Array(readFileSync(repoPath('fixtures/broken/truncated.o'))), 'truncated.o');
    expect(err.message).toMatch(/^truncated\.o: .*outside the file/);
  });

  it('rejects every truncation of a good object with an ObjectLoadError', () => {
    for (const f of FIXTURES) {
      const bytes = fixtureBytes(f);
      for (let cut = 0; cut < bytes.length; cut += 37) loadError(bytes.subarray(0, cut));
      loadError(bytes.subarray(0, bytes.length - 1));
    }
  });
});

describe('broken sections', () => {
  it('names the section whose data lies outside the file', () => {
    const btf = section(globals, '.BTF');
    const err = loadError(edited(globals, (v) => v.setBigUint64(btf.header + 24, 0xfffff0n, true)));
    expect(err.section).toBe('.BTF');
    expect(err.message).toMatch(/section \.BTF: data at offset 16777200/);
  });

  it('names the string table when a section name offset points outside it', () => {
    const tc = section(globals, 'tc');
    const err = loadError(edited(globals, (v) => v.setUint32(tc.header, 0x7fff_0000, true)));
    expect(err.section).toBe('.strtab');
    expect(err.message).toMatch(/section 4 name: string offset/);
  });

  it('names the relocation section when a relocation refers to a symbol that does not exist', () => {
    const rel = section(globals, '.reltc');
    const err = loadError(edited(globals, (v) => v.setUint32(rel.offset + 8 + 4, 0xffff, true)));
    expect(err.section).toBe('.reltc');
    expect(err.message).toMatch(/relocation 0: symbol index 65535 is out of range/);
  });

  it('names the code section and relocation index for an unknown relocation type', () => {
    const rel = section(globals, '.reltc');
    const err = loadError(edited(globals, (v) => v.setUint32(rel.offset + 16 + 8, 99, true)), 'globals.o');
    expect(err.message).toBe('globals.o: section tc: relocation 1: unknown relocation type 99');
    expect(err.section).toBe('tc');
  });

  it('rejects RELA relocations against code, which the BPF backend never emits', () => {
    const rel = section(globals, '.reltc');
    const err = loadError(edited(globals, (v) => v.setUint32(rel.header + 4, 4, true)));
    expect(err.section).toBe('.reltc');
    expect(err.message).toMatch(/RELA relocations are not supported/);
  });

  it('rejects a relocation that does not sit on an instruction boundary', () => {
    const rel = section(globals, '.reltc');
    const err = loadError(edited(globals, (v) => v.setBigUint64(rel.offset, 3n, true)));
    expect(err.section).toBe('tc');
    expect(err.message).toMatch(/relocation 0: invalid offset 0x3/);
  });

  it('rejects a relocation on an instruction that is neither call nor lddw', () => {
    const rel = section(globals, '.reltc');
    // Relocation 0 targets the call at insn 1 of `first`; move it to insn 0 (a load).
    const err = loadError(edited(globals, (v) => v.setBigUint64(rel.offset, 0n, true)));
    expect(err.message).toMatch(/section tc: relocation 0: .*neither a call nor lddw/);
  });

  it('rejects a relocation against an undefined (extern) symbol', () => {
    const rel = section(globals, '.reltc');
    // Symbol 0 is the null symbol: SHN_UNDEF.
    const err = loadError(edited(globals, (v) => v.setUint32(rel.offset + 12, 0, true)));
    expect(err.section).toBe('tc');
    expect(err.message).toMatch(/relocation 0: unknown symbol #0 /);
  });

  it('names .BTF when the BTF header lengths are inconsistent', () => {
    const btf = section(globals, '.BTF');
    for (const [field, value] of [[4, 0xffff], [12, 0x7fffffff], [20, 0x7fffffff], [8, 3]] as const) {
      const err = loadError(edited(globals, (v) => v.setUint32(btf.offset + field, value, true)));
      expect(err.section, `field ${field}`).toBe('.BTF');
    }
    expect(loadError(edited(globals, (v) => v.setUint16(btf.offset, 0x1234, true))).message).toMatch(/\.BTF: bad magic 0x1234/);
  });

  it('names .BTF.ext when its header or records are inconsistent', () => {
    const ext = section(globals, '.BTF.ext');
    expect(loadError(edited(globals, (v) => v.setUint32(ext.offset + 4, 0xfff0, true))).section).toBe('.BTF.ext');
    // func_info length beyond the section.
    expect(loadError(edited(globals, (v) => v.setUint32(ext.offset + 12, 0xfffffff, true))).section).toBe('.BTF.ext');
    // func_info record size of 0.
    const funcInfoOff = new DataView(globals.buffer, globals.byteOffset).getUint32(ext.offset + 8, true);
    const hdrLen = new DataView(globals.buffer, globals.byteOffset).getUint32(ext.offset + 4, true);
    const err = loadError(edited(globals, (v) => v.setUint32(ext.offset + hdrLen + funcInfoOff, 0, true)));
    expect(err.section).toBe('.BTF.ext');
    expect(err.message).toMatch(/func_info: record size 0/);
  });

  it('names .maps when a map definition has no type', () => {
    // Rename the `type` member of every map struct: its name is a string in .BTF.
    const btf = section(maps, '.BTF');
    const text = new TextDecoder('latin1').decode(maps.subarray(btf.offset, btf.offset + btf.size));
    const at = text.indexOf('\0type\0');
    expect(at).toBeGreaterThan(0);
    const err = loadError(edited(maps, (_, b) => (b[btf.offset + at + 1] = 'T'.charCodeAt(0))));
    expect(err.section).toBe('.maps');
    expect(err.message).toMatch(/map inner_a: map type isn't specified/);
  });

  it('links a recursive subprogram once and points its call back at its own start', () => {
    // .text insn 5 is add_global's `call add_static` (no relocation); aim it at add_global itself (insn 0).
    const text = section(globals, '.text');
    const spec = loadObject(edited(globals, (v) => v.setInt32(text.offset + 5 * 8 + 4, -6, true)), { name: 'globals.o' });
    const first = spec.programs.find((p) => p.name === 'first')!;
    expect(first.functions.map((f) => f.name)).toEqual(['first', 'add_global']);
    const addGlobal = first.functions[1];
    const call = addGlobal.start + 5;
    expect(call + first.insns[call].imm + 1).toBe(addGlobal.start);
  });

  it('rejects a call that lands outside every function, naming the section', () => {
    const text = section(globals, '.text');
    const err = loadError(edited(globals, (v) => v.setInt32(text.offset + 5 * 8 + 4, 1000, true)));
    expect(err.section).toBe('.text');
    expect(err.message).toMatch(/function add_global: instruction 5: target instruction 1006 of section \.text is not inside a function/);
  });

  it('rejects an odd-sized code section', () => {
    const xdp = section(globals, 'xdp');
    const err = loadError(edited(globals, (v) => v.setBigUint64(xdp.header + 32, BigInt(xdp.size - 3), true)));
    expect(err.section).toBe('xdp');
  });

  it('refuses an absurd .bss size instead of allocating it', () => {
    const bss = section(globals, '.bss');
    const err = loadError(edited(globals, (v) => v.setBigUint64(bss.header + 32, 1n << 40n, true)));
    expect(err.section).toBe('.bss');
  });
});

describe('fuzzing', () => {
  // cilium/ebpf's fuzz rule: a mutated object yields either a spec or an ObjectLoadError, never both or anything else.
  it('never throws anything but ObjectLoadError on seeded random mutations of every fixture', () => {
    const ITERATIONS = 500;
    let specs = 0;
    let errors = 0;
    for (const [fi, f] of FIXTURES.entries()) {
      const good = fixtureBytes(f);
      const sections = rawSections(good);
      const rand = prng(0xb9f0 + fi);
      const pick = (n: number) => Math.floor(rand() * n);
      const interesting = [0, 1, 0xff, 0x7f, 0x80, 0xffff, 0x7fffffff, 0xffffffff, 8, 16, 24];
      for (let it = 0; it < ITERATIONS; it++) {
        const b = good.slice();
        const v = new DataView(b.buffer);
        const mutations = 1 + pick(4);
        for (let m = 0; m < mutations; m++) {
          // Aim half of the mutations at headers, where a byte matters most.
          const s = sections[pick(sections.length)];
          const target = rand() < 0.5 ? s.header + pick(64) : rand() < 0.5 && s.size > 0 && s.type !== 8 ? s.offset + pick(s.size) : pick(b.length);
          const at = Math.min(target, b.length - 4);
          if (rand() < 0.5) b[at] = pick(256);
          else v.setUint32(at, interesting[pick(interesting.length)], true);
        }
        let spec: ObjectSpec | undefined;
        let error: unknown;
        try {
          spec = loadObject(b, { name: `${f}.o` });
        } catch (e) {
          error = e;
        }
        if (error !== undefined) {
          if (!(error instanceof ObjectLoadError)) throw new Error(`${f} iteration ${it}: threw ${String(error)}`);
          errors++;
        } else {
          expect(Array.isArray(spec?.programs) && Array.isArray(spec?.maps)).toBe(true);
          specs++;
        }
      }
    }
    expect(specs + errors).toBe(FIXTURES.length * ITERATIONS);
    expect(errors).toBeGreaterThan(0);
  }, 60_000);
});
