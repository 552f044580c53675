// The bpf_conformance `.data` reader (src/asm/conformance.ts).
import { describe, expect, it } from 'vitest';
import { parseConformanceTest } from '../../src/asm/conformance.js';

describe('parseConformanceTest', () => {
  it('reads comments, asm, mem and result', () => {
    const t = parseConformanceTest(
      ['# adds', '# RFC 9669 §4.1', '-- asm', 'mov32 %r0, 0', 'exit', '-- mem', '00 01 02', 'ff # trailing', '-- result', '0x10'].join('\n'),
    );
    expect(t.comments).toEqual(['adds', 'RFC 9669 §4.1']);
    expect(t.asm).toBe('mov32 %r0, 0\nexit');
    expect([...t.mem]).toEqual([0, 1, 2, 255]);
    expect(t.result).toBe(0x10n);
    expect(t.error).toBeUndefined();
  });

  it('reads negative and decimal results as unsigned 64-bit', () => {
    expect(parseConformanceTest('-- asm\nexit\n-- result\n-1\n').result).toBe(0xffffffffffffffffn);
    expect(parseConformanceTest('-- asm\nexit\n-- result\n42').result).toBe(42n);
  });

  it('reads an expected error and keeps unknown sections', () => {
    const t = parseConformanceTest('-- asm\nja -1\n-- error\nbudget\n-- no register offset\ncall instruction\n');
    expect(t.error).toBe('budget');
    expect(t.result).toBeUndefined();
    expect(t.sections['no register offset']).toBe('call instruction\n');
    expect(t.mem.length).toBe(0);
  });

  it.each([
    ['# only a comment\n-- mem\n00', "no '-- asm' section"],
    ['-- asm\nexit\n-- mem\n0g', "line 4: '0g' is not a hex byte"],
    ['-- asm\nexit\n-- result\n1\n2', "line 4: '-- result' must hold exactly one number"],
    ['-- asm\nexit\n-- result\nabc', "line 4: result 'abc' is not a number"],
    ['-- asm\nexit\n-- asm\nexit', "line 3: section '-- asm' appears twice"],
    ['stray\n-- asm\nexit', "line 1: text before the first '-- section': 'stray'"],
  ])('rejects %j with "%s"', (text, message) => {
    expect(() => parseConformanceTest(text)).toThrow(message);
  });
});
