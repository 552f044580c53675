import { describe, expect, it } from 'vitest';
import { Btf, BtfError, parseBtf } from '../../src/btf/btf.js';
import { parseBtfExt } from '../../src/btf/ext.js';
import { decodeValue, encodeValue } from '../../src/btf/value.js';
import { ElfFile } from '../../src/elf/reader.js';
import { loadObject } from '../../src/loader/object.js';
import { fixtureBytes, sourceLines } from '../loader/fixtures.js';

function btfOf(name: 'btf_types' | 'globals' | 'maps'): { btf: Btf; elf: ElfFile } {
  const elf = new ElfFile(fixtureBytes(name as never));
  return { btf: parseBtf(elf.data(elf.sectionByName('.BTF')!)), elf };
}

/** Builds a .BTF blob from raw type words and a string table, for hand-made corner cases. */
function buildBtf(typeWords: number[], strings: string): Uint8Array {
  const str = new TextEncoder().encode(strings);
  const out = new Uint8Array(24 + typeWords.length * 4 + str.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xeb9f, true);
  v.setUint8(2, 1);
  v.setUint32(4, 24, true);
  v.setUint32(8, 0, true);
  v.setUint32(12, typeWords.length * 4, true);
  v.setUint32(16, typeWords.length * 4, true);
  v.setUint32(20, str.length, true);
  typeWords.forEach((w, i) => v.setUint32(24 + i * 4, w >>> 0, true));
  out.set(str, 24 + typeWords.length * 4);
  return out;
}
const info = (kind: number, vlen = 0, kindFlag = 0) => ((kindFlag << 31) | (kind << 24) | vlen) >>> 0;

describe('BTF types', () => {
  const { btf } = btfOf('btf_types');
  const record = btf.typeByName('record', 'struct')!;

  it('parses every kind clang emits for the fixture', () => {
    const kinds = new Set(btf.types.map((t) => t.kind));
    for (const k of ['int', 'ptr', 'array', 'struct', 'union', 'enum', 'enum64', 'typedef', 'volatile', 'const', 'func', 'func_proto', 'var', 'datasec', 'float', 'decl_tag', 'type_tag']) {
      expect(kinds.has(k as never), k).toBe(true);
    }
    expect(new Set(btfOf('globals').btf.types.map((t) => t.kind)).has('fwd')).toBe(true);
  });

  it('computes sizes as C lays the types out', () => {
    expect(btf.sizeof(record.id)).toBe(80);
    expect(btf.sizeof(btf.typeByName('inner', 'struct')!.id)).toBe(4);
    expect(btf.sizeof(btf.typeByName('counter_t')!.id)).toBe(4);
    expect(btf.sizeof(btf.member(record.id, 'name')!.type)).toBe(8);
    expect(btf.sizeof(btf.member(record.id, 'uptr')!.type)).toBe(8);
  });

  it('finds members by name, through anonymous unions, with byte and bit offsets', () => {
    expect(btf.member(record.id, 'addr6')).toMatchObject({ offset: 4, bitOffset: 32 });
    expect(btf.member(record.id, 'in')).toMatchObject({ offset: 20 });
    expect(btf.member(record.id, 'level')).toMatchObject({ bitOffset: 3, bitfieldSize: 5 });
    expect(btf.member(record.id, 'mean')).toMatchObject({ offset: 48 });
    expect(btf.member(record.id, 'nope')).toBeUndefined();
    expect(() => btf.members(btf.typeByName('counter_t')!.id)).toThrow(BtfError);
  });

  it('skips typedefs and qualifiers when resolving', () => {
    const stamp = btf.member(record.id, 'stamp')!;
    expect(btf.resolve(stamp.type)).toMatchObject({ kind: 'int', size: 8, signed: false });
    expect(btf.resolve(btf.typeByName('counter_t')!.id)).toMatchObject({ kind: 'int', name: 'unsigned int' });
  });

  it('describes types in C syntax', () => {
    const d = (m: string) => btf.describe(btf.member(record.id, m)!.type);
    expect(btf.describe(record.id)).toBe('struct record');
    expect(d('stamp')).toBe('const volatile __u64');
    expect(d('name')).toBe('char[8]');
    expect(d('uptr')).toBe('int *');
    expect(d('color')).toBe('enum color');
    const skb = btfOf('globals').btf;
    expect(skb.describe(skb.typeByName('first', 'func')!.id)).toBe('int first(struct __sk_buff *skb)');
  });

  it('keeps signed and 64-bit enum values exactly', () => {
    const color = btf.typeByName('color', 'enum')!;
    const big = btf.typeByName('big', 'enum64')!;
    expect(color.kind === 'enum' && color.values.map((v) => [v.name, v.value])).toEqual([['RED', 1n], ['GREEN', 2n], ['BLUE', -3n]]);
    expect(big.kind === 'enum64' && big.values[1].value).toBe(0x1234567890n);
  });

  it('reads decl tags with their component index', () => {
    const tag = btf.typeByName('record_tag', 'decl_tag')!;
    expect(tag).toMatchObject({ type: record.id, componentIdx: -1 });
  });
});

describe('BTF.ext', () => {
  it('reads func_info and line_info per section with instruction indices', () => {
    const { btf, elf } = btfOf('btf_types');
    const ext = parseBtfExt(elf.data(elf.sectionByName('.BTF.ext')!), btf);
    expect(ext.funcInfo.get('tc')).toEqual([{ insnIndex: 0, btfTypeId: btf.typeByName('use_records', 'func')!.id }]);
    const lines = ext.lineInfo.get('tc')!;
    const source = sourceLines('btf_types' as never);
    expect(lines[0]).toMatchObject({ insnIndex: 0, file: './bpf/testdata/btf_types.c' });
    for (const l of lines) expect(source[l.line - 1]).toBe(l.text);
    expect(lines.some((l) => l.text.includes('return r->in.port + r->level;'))).toBe(true);
  });
});

describe('BTF robustness', () => {
  it('reports a cyclic typedef chain instead of hanging', () => {
    // [1] const -> [2], [2] volatile -> [1]
    const btf = parseBtf(buildBtf([0, info(10), 2, 0, info(9), 1], '\0'));
    expect(() => btf.resolve(1)).toThrow(/cyclic/);
    expect(() => btf.sizeof(1)).toThrow(/cyclic/);
    expect(btf.describe(1)).toMatch(/too deep/);
  });

  it('rejects a reference to a type that does not exist', () => {
    expect(() => parseBtf(buildBtf([0, info(2), 7], '\0'))).toThrow(/refers to missing type 7/);
  });

  it('rejects a struct whose members run past the type section', () => {
    expect(() => parseBtf(buildBtf([0, info(4, 100), 8, 0, 1, 0], '\0'))).toThrow(/truncated/);
  });

  it('rejects a name offset outside the string section', () => {
    expect(() => parseBtf(buildBtf([999, info(1), 4, 32], '\0'))).toThrow(/outside the string section/);
  });

  it('rejects an array whose size overflows', () => {
    // [1] int, [2] array of 0xffffffff ints.
    const btf = parseBtf(buildBtf([0, info(1), 4, 32, 0, info(3), 0, 1, 1, 0xffffffff], '\0'));
    expect(() => btf.sizeof(2)).toThrow(/overflows/);
  });

  it('fixes DATASEC sizes and variable offsets that clang left as zero from the ELF symbols', () => {
    // clang 19 writes .bss as DATASEC size 0 with every VAR at offset 0; libbpf's btf_fixup_datasec repairs it.
    const raw = btfOf('globals').btf.typeByName('.bss', 'datasec')!;
    expect(raw.kind === 'datasec' && [raw.size, raw.vars.map((v) => v.offset)]).toEqual([0, [0, 0]]);
    const spec = loadObject(fixtureBytes('globals'), { name: 'globals.o' });
    const bss = spec.btf!.typeByName('.bss', 'datasec')!;
    const elf = new ElfFile(fixtureBytes('globals'));
    const scratch = elf.symbols.find((s) => s.name === 'scratch')!;
    expect(bss.kind === 'datasec' && [bss.size, bss.vars.map((v) => v.offset)]).toEqual([elf.sectionByName('.bss')!.size, [0, scratch.value]]);
    expect(scratch.value).toBe(32);
  });
});

describe('typed values', () => {
  const { btf } = btfOf('btf_types');
  const record = btf.typeByName('record', 'struct')!.id;

  it('encodes a struct into bytes at the C layout and decodes it back', () => {
    const value = {
      flags: 5,
      level: -5,
      rest: 0xabcdef,
      addr4: 0x0100007f,
      in: { port: 8080, proto: 6 },
      color: 'BLUE',
      big: 0x1234567890n,
      id: 7,
      ratio: 0.5,
      mean: 2.25,
      name: [104, 105],
      stamp: 1n << 40n,
      uptr: 0xffff888000001000n,
    };
    const bytes = encodeValue(btf, record, value);
    expect(bytes.length).toBe(80);
    const v = new DataView(bytes.buffer);
    // flags:3 | level:5 | rest:24 packed into the first u32, LSB first.
    expect(v.getUint32(0, true)).toBe((5 | ((-5 & 0x1f) << 3) | (0xabcdef << 8)) >>> 0);
    expect(v.getUint32(4, true)).toBe(0x0100007f);
    expect(v.getUint16(20, true)).toBe(8080);
    expect(v.getInt32(24, true)).toBe(-3);
    expect(v.getBigUint64(32, true)).toBe(0x1234567890n);
    expect(v.getFloat64(48, true)).toBe(2.25);
    const decoded = decodeValue(btf, record, bytes) as Record<string, unknown>;
    expect(decoded).toMatchObject({ ...value, color: -3, name: [104, 105, 0, 0, 0, 0, 0, 0] });
    expect((decoded.addr6 as number[]).slice(0, 4)).toEqual([0x7f, 0, 0, 1]);
  });

  it('zero-fills members that are not given', () => {
    expect(encodeValue(btf, record, { id: 1 })).toEqual(encodeValue(btf, record, { id: 1, flags: 0, in: { port: 0 } }));
  });

  it('names the member path when a value does not fit', () => {
    expect(() => encodeValue(btf, record, { in: { port: 70000 } })).toThrow(/struct record\.in\.port: 70000 does not fit in 2 bytes/);
    expect(() => encodeValue(btf, record, { colour: 1 })).toThrow(/no member named colour/);
    expect(() => encodeValue(btf, record, { color: 'PURPLE' })).toThrow(/PURPLE is not a value of enum color/);
  });

  it('decodes global data through its DATASEC', () => {
    const spec = loadObject(fixtureBytes('globals'), { name: 'globals.o' });
    const rodata = spec.maps.find((m) => m.section === '.rodata')!;
    const decoded = decodeValue(spec.btf!, rodata.valueTypeId!, rodata.initialValue!);
    expect(decoded).toEqual({ threshold: 42, greeting: [104, 101, 108, 108, 111, 0] });
  });
});
