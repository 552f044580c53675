import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  KCONFIG_DEFAULTS,
  kernelVersionCode,
  kernelVersionFromRelease,
  loadObject,
  ObjectLoadError,
  parseKconfigText,
  withKconfig,
  type KconfigValues,
  type ObjectSpec,
} from '../../src/loader/index.js';
import { repoPath } from './fixtures.js';

const bytesOf = (rel: string) => new Uint8Array(readFileSync(repoPath(rel)));
const TYPES = 'fixtures/obj/parity/kconfig_types.o';
const loadTypes = (kconfig?: KconfigValues, kconfigDefaults?: boolean) => loadObject(bytesOf(TYPES), { name: 'kconfig_types.o', kconfig, kconfigDefaults });

/** The .kconfig map's bytes of `spec`, read as the extern `name` (little-endian). */
function read(spec: ObjectSpec, name: string): bigint | string {
  const ext = spec.kconfig!.externs.find((e) => e.name === name)!;
  const bytes = spec.maps[spec.kconfig!.mapIndex].initialValue!.subarray(ext.offset, ext.offset + ext.size);
  if (ext.type === 'char-array') return new TextDecoder().decode(bytes);
  let v = 0n;
  bytes.forEach((b, i) => (v |= BigInt(b) << BigInt(8 * i)));
  return v;
}

describe('__kconfig extern values', () => {
  it('records each extern with the offset libbpf gives it and its kcfg type from BTF', () => {
    const spec = loadTypes();
    const byName = Object.fromEntries(spec.kconfig!.externs.map((e) => [e.name, e]));
    // offsets as libbpf 1.x reported them for this object (bpftool -d prog loadall: "extern (kcfg) #n ... off")
    const offsets = { CONFIG_ILLEGAL_POINTER_VALUE: 0, CONFIG_LOG_BUF_SHIFT: 8, CONFIG_BPFBED_NOT_A_CONFIG: 16, CONFIG_BPF_SYSCALL: 20, CONFIG_HZ: 24, LINUX_KERNEL_VERSION: 28, CONFIG_NR_CPUS: 32, CONFIG_BPF_JIT: 34, CONFIG_NET: 35, CONFIG_LOCALVERSION: 36, CONFIG_DEFAULT_HOSTNAME: 40 };
    for (const [name, offset] of Object.entries(offsets)) expect(byName[name]?.offset, name).toBe(offset);
    expect(byName.CONFIG_BPF_SYSCALL).toMatchObject({ type: 'tristate', weak: true });
    expect(byName.CONFIG_BPF_JIT).toMatchObject({ type: 'bool', size: 1 });
    expect(byName.CONFIG_NET).toMatchObject({ type: 'char', size: 1 });
    expect(byName.CONFIG_LOG_BUF_SHIFT).toMatchObject({ type: 'int', size: 8, signed: true });
    expect(byName.CONFIG_NR_CPUS).toMatchObject({ type: 'int', size: 2, signed: false });
    expect(byName.CONFIG_LOCALVERSION).toMatchObject({ type: 'char-array', size: 4 });
    expect(byName.LINUX_KERNEL_VERSION).toMatchObject({ type: 'int', weak: false });
  });

  it('fills the documented defaults when no values are given, and leaves weak externs without one at zero', () => {
    const spec = loadObject(bytesOf('fixtures/obj/testdata/kconfig.o'), { name: 'kconfig.o' });
    expect(read(spec, 'LINUX_KERNEL_VERSION')).toBe(BigInt(KCONFIG_DEFAULTS.LINUX_KERNEL_VERSION as number));
    expect(read(spec, 'CONFIG_BPF_SYSCALL')).toBe(1n);
    expect(read(spec, 'CONFIG_HZ')).toBe(250n);
    expect(read(loadTypes(), 'CONFIG_BPFBED_NOT_A_CONFIG')).toBe(0n);
  });

  it('types y, m and n by the extern: tristate 1/2/0, bool 1/0, char the letter', () => {
    const spec = loadTypes({ CONFIG_BPF_SYSCALL: 'm', CONFIG_BPF_JIT: 'y', CONFIG_NET: 'n' });
    expect(read(spec, 'CONFIG_BPF_SYSCALL')).toBe(2n);
    expect(read(spec, 'CONFIG_BPF_JIT')).toBe(1n);
    expect(read(spec, 'CONFIG_NET')).toBe(BigInt('n'.charCodeAt(0)));
    expect(read(loadTypes({ CONFIG_BPF_SYSCALL: false, CONFIG_BPF_JIT: false }), 'CONFIG_BPF_SYSCALL')).toBe(0n);
  });

  it('refuses m for a bool and an integer for a bool, naming the extern', () => {
    expect(() => loadTypes({ CONFIG_BPF_JIT: 'm' })).toThrow(/CONFIG_BPF_JIT.*'m' implies tristate or char/);
    expect(() => loadTypes({ CONFIG_BPF_JIT: 1 })).toThrow(/CONFIG_BPF_JIT.*implies integer type/);
    expect(() => loadTypes({ CONFIG_BPF_JIT: 'm' })).toThrow(ObjectLoadError);
  });

  it('parses integers as libbpf does (decimal, hex, octal, negative for signed) and checks they fit the extern', () => {
    const spec = loadTypes({ CONFIG_ILLEGAL_POINTER_VALUE: '0xdead000000000000', CONFIG_HZ: '0372', CONFIG_LOG_BUF_SHIFT: -1, CONFIG_NR_CPUS: 65535 });
    expect(read(spec, 'CONFIG_ILLEGAL_POINTER_VALUE')).toBe(0xdead000000000000n);
    expect(read(spec, 'CONFIG_HZ')).toBe(250n);
    expect(read(spec, 'CONFIG_LOG_BUF_SHIFT')).toBe(0xffffffffffffffffn);
    expect(read(spec, 'CONFIG_NR_CPUS')).toBe(65535n);
    expect(() => loadTypes({ CONFIG_NR_CPUS: 65536 })).toThrow(/CONFIG_NR_CPUS.*out of range for 2-byte unsigned/);
    expect(() => loadTypes({ CONFIG_NR_CPUS: -1 })).toThrow(/CONFIG_NR_CPUS.*out of range/);
    expect(() => loadTypes({ CONFIG_HZ: 1.5 })).toThrow(/CONFIG_HZ.*not an integer/);
  });

  it('copies strings into char arrays, cut to the array less its NUL, quoted or not', () => {
    const spec = loadTypes({ CONFIG_DEFAULT_HOSTNAME: '"(none)"', CONFIG_LOCALVERSION: '-fc-v595' });
    expect(read(spec, 'CONFIG_DEFAULT_HOSTNAME')).toBe('(none)\0\0');
    expect(read(spec, 'CONFIG_LOCALVERSION')).toBe('-fc\0');
    expect(() => loadTypes({ CONFIG_HZ: 'fast' })).toThrow(/CONFIG_HZ.*implies char array type/);
    expect(() => loadTypes({ CONFIG_DEFAULT_HOSTNAME: '"open' })).toThrow(/invalid string config/);
  });

  it('takes LINUX_KERNEL_VERSION as a number or a release, computed as KERNEL_VERSION with the patch level saturating', () => {
    expect(read(loadTypes({ LINUX_KERNEL_VERSION: '5.15.300' }), 'LINUX_KERNEL_VERSION')).toBe(BigInt((5 << 16) + (15 << 8) + 255));
    expect(kernelVersionFromRelease('6.18.44-fc-v595')).toBe(kernelVersionCode(6, 18, 44));
    expect(kernelVersionFromRelease('6.18')).toBeUndefined();
    expect(() => loadTypes({ LINUX_KERNEL_VERSION: 'six' })).toThrow(/LINUX_KERNEL_VERSION.*not an integer or a release/);
  });

  it('fails on a strong extern without a value, naming it, when the defaults are off', () => {
    expect(() => loadTypes({}, false)).toThrow(/kconfig_types\.o: section \.kconfig: extern 'LINUX_KERNEL_VERSION' \(strong\): not resolved/);
    const spec = loadTypes({ LINUX_KERNEL_VERSION: 1 }, false);
    expect(read(spec, 'CONFIG_BPF_SYSCALL')).toBe(0n); // weak, and no default this time
  });

  it('reads the CONFIG_ lines of a kernel config and skips comments, as libbpf does', () => {
    const text = 'CONFIG_HZ=300\n# CONFIG_BPF_JIT is not set\nCONFIG_DEFAULT_HOSTNAME="box"\nCONFIG_BPF_SYSCALL=y\nNOT_CONFIG=1\n';
    const values = parseKconfigText(text);
    expect(values).toEqual({ CONFIG_HZ: '300', CONFIG_DEFAULT_HOSTNAME: '"box"', CONFIG_BPF_SYSCALL: 'y' });
    const spec = loadTypes({ ...values, LINUX_KERNEL_VERSION: '6.1.0' }, false);
    expect(read(spec, 'CONFIG_HZ')).toBe(300n);
    expect(read(spec, 'CONFIG_BPF_JIT')).toBe(0n);
    expect(read(spec, 'CONFIG_DEFAULT_HOSTNAME')).toBe('box\0\0\0\0\0');
    expect(() => parseKconfigText('CONFIG_A=1\nCONFIG_B\n', 'cfg')).toThrow(/cfg: line 2: 'CONFIG_B': no separator/);
    expect(() => parseKconfigText('CONFIG_A=\n')).toThrow(/no value/);
  });

  it('rewrites the values of a loaded spec without touching the original', () => {
    const spec = loadTypes();
    const other = withKconfig(spec, { CONFIG_HZ: 1000 });
    expect(read(other, 'CONFIG_HZ')).toBe(1000n);
    expect(read(spec, 'CONFIG_HZ')).toBe(250n);
    const kconfigIndex = spec.kconfig!.mapIndex;
    other.maps.forEach((m, i) => (i === kconfigIndex ? expect(m).not.toBe(spec.maps[i]) : expect(m).toBe(spec.maps[i])));
  });

  it('refuses an extern of a type libbpf cannot fill, naming it, as libbpf refuses to open the object', () => {
    // bpf/parity/kconfig_unsupported.c: extern int CONFIG_NR_CPUS[2] (only char arrays take a string)
    expect(() => loadObject(bytesOf('fixtures/obj/parity/kconfig_unsupported.o'), { name: 'kconfig_unsupported.o' })).toThrow(
      /kconfig_unsupported\.o: section \.kconfig: extern \(kcfg\) 'CONFIG_NR_CPUS': type is unsupported/,
    );
  });
});

