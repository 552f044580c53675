// The formatting of bpf_trace_printk (6), bpf_snprintf (165) and bpf_trace_vprintk (177).
// Format checking follows bpf_bprintf_prepare() in kernel/bpf/helpers.c exactly: printable
// ASCII only, "%%", optional "[0 +-]" flags and a width, then one of
//   %d %i %u %x %X with l / ll, %c, %s, %pks, %pus, %p %pK %px %ps %pS, %pB, %pI4 %pi4 %pI6 %pi6,
// and no more conversions than arguments (-EINVAL otherwise). Output follows the kernel's
// vsnprintf (lib/vsprintf.c) for those conversions.
//
// One deliberate difference: the kernel prints %p, %pK, %ps, %pS as a pointer hashed with a
// random boot-time key (ptr_to_id), so the text changes every boot. bpfbed hashes with a fixed
// key so a run is reproducible; the value is as meaningless as the kernel's.

export const MAX_BPRINTF_BUF = 1024; // kernel/bpf/helpers.c (include/linux/bpf.h)
export const MAX_BPRINTF_VARARGS = 12;
export const MAX_TRACE_PRINTK_VARARGS = 3;
const MAX_BPRINTF_BIN_ARGS = 512; // room for the copied strings and addresses of one call

const EINVAL = 22;
const ENOSPC = 28;

/** Reads VM memory for %s / %pI4 arguments: bytes, or undefined when the address is not readable. */
export interface PrintfMemory {
  read(addr: bigint, len: number): Uint8Array | undefined;
  /** The NUL-terminated string at addr, at most max bytes; undefined when unreadable. */
  cString(addr: bigint, max: number): string | undefined;
}

export type PrintfResult = { ok: true; text: string } | { ok: false; errno: number };

interface Spec {
  flags: string;
  width: number;
  conv: string; // d i u x X c s p pK px ps pS pB pI4 pi4 pI6 pi6 pks pus
  size: 4 | 8;
}

const isPrint = (c: number) => c >= 0x20 && c <= 0x7e;
const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isPunct = (c: number) => isPrint(c) && !isSpace(c) && !/[0-9A-Za-z]/.test(String.fromCharCode(c));

/**
 * Checks a format as bpf_bprintf_prepare() does and splits it into literal text and
 * conversions. `fmt` is the bytes up to (not including) the NUL.
 */
export function parseBpfFormat(fmt: Uint8Array, numArgs: number): { ok: true; parts: (string | Spec)[] } | { ok: false; errno: number } {
  const parts: (string | Spec)[] = [];
  let literal = '';
  const at = (i: number) => (i < fmt.length ? fmt[i] : 0);
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i];
    if ((!isPrint(c) && !isSpace(c)) || c > 0x7f) return { ok: false, errno: EINVAL };
    if (c !== 0x25 /* % */) {
      literal += String.fromCharCode(c);
      continue;
    }
    if (at(i + 1) === 0x25) {
      literal += '%';
      i++;
      continue;
    }
    if (parts.filter((p) => typeof p !== 'string').length >= numArgs) return { ok: false, errno: EINVAL };
    i++;
    let flags = '';
    while ('0+- '.includes(String.fromCharCode(at(i))) && at(i) !== 0) flags += String.fromCharCode(fmt[i++]);
    let width = 0;
    if (at(i) >= 0x31 && at(i) <= 0x39) {
      while (at(i) >= 0x30 && at(i) <= 0x39) width = width * 10 + (fmt[i++] - 0x30);
    }
    const ch = String.fromCharCode(at(i));
    const next = at(i + 1);
    let spec: Spec;
    if (ch === 'p') {
      const n1 = String.fromCharCode(next);
      if ((n1 === 'k' || n1 === 'u') && at(i + 2) === 0x73 /* s */) {
        i += 2;
        if (at(i + 1) !== 0 && !isSpace(at(i + 1)) && !isPunct(at(i + 1))) return { ok: false, errno: EINVAL };
        spec = { flags, width, conv: `p${n1}s`, size: 8 };
      } else if (next === 0 || isSpace(next) || isPunct(next) || 'KxsS'.includes(n1)) {
        // "just kernel pointers": %p followed by a non-letter, or %pK %px %ps %pS
        const conv = next !== 0 && 'KxsS'.includes(n1) ? `p${n1}` : 'p';
        if (conv !== 'p') i++;
        spec = { flags, width, conv, size: 8 };
      } else if (n1 === 'B') {
        i++;
        spec = { flags, width, conv: 'pB', size: 8 };
      } else {
        const n2 = String.fromCharCode(at(i + 2));
        if ((n1 !== 'i' && n1 !== 'I') || (n2 !== '4' && n2 !== '6')) return { ok: false, errno: EINVAL };
        i += 2;
        spec = { flags, width, conv: `p${n1}${n2}`, size: 8 };
      }
    } else if (ch === 's') {
      if (next !== 0 && !isSpace(next) && !isPunct(next)) return { ok: false, errno: EINVAL };
      spec = { flags, width, conv: 's', size: 8 };
    } else if (ch === 'c') {
      spec = { flags, width, conv: 'c', size: 4 };
    } else {
      let size: 4 | 8 = 4;
      if (at(i) === 0x6c /* l */) {
        size = 8;
        i++;
      }
      if (at(i) === 0x6c) {
        size = 8;
        i++;
      }
      const conv = String.fromCharCode(at(i));
      if (!'iduxX'.includes(conv) || at(i) === 0) return { ok: false, errno: EINVAL };
      spec = { flags, width, conv, size };
    }
    if (literal) parts.push(literal);
    literal = '';
    parts.push(spec);
  }
  if (literal) parts.push(literal);
  return { ok: true, parts };
}

function pad(body: string, spec: Spec, numeric: boolean): string {
  if (body.length >= spec.width) return body;
  if (spec.flags.includes('-')) return body.padEnd(spec.width);
  if (numeric && spec.flags.includes('0')) {
    const sign = /^[-+ ]/.test(body) ? body[0] : '';
    return sign + body.slice(sign.length).padStart(spec.width - sign.length, '0');
  }
  return body.padStart(spec.width);
}

/** A fixed-key stand-in for the kernel's ptr_to_id() hashing (see the file comment). */
function hashPointer(addr: bigint): string {
  let h = 0x811c9dc5;
  for (let i = 0n; i < 64n; i += 8n) {
    h ^= Number((addr >> i) & 0xffn);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(16, '0');
}

function formatIp(bytes: Uint8Array, conv: string): string {
  if (conv === 'pI4') return [...bytes].join('.');
  if (conv === 'pi4') return [...bytes].map((b) => String(b).padStart(3, '0')).join('.');
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0'));
  if (conv === 'pi6') return hex.join('');
  // %pI6: eight groups of four digits, no compression (that is %pI6c) — lib/vsprintf.c ip6_string
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(hex[i] + hex[i + 1]);
  return groups.join(':');
}

/**
 * Formats like the kernel's bstr_printf() after bpf_bprintf_prepare(). Returns the full text
 * (callers truncate: trace_printk to MAX_BPRINTF_BUF - 1, snprintf to its buffer).
 */
export function bpfFormat(fmt: Uint8Array, args: readonly bigint[], numArgs: number, mem: PrintfMemory): PrintfResult {
  const parsed = parseBpfFormat(fmt, numArgs);
  if (!parsed.ok) return parsed;
  let out = '';
  let argIndex = 0;
  let binArgsUsed = 0; // bytes of the kernel's bin_args buffer this call would use
  for (const part of parsed.parts) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const raw = BigInt.asUintN(64, args[argIndex++] ?? 0n);
    const spec = part;
    switch (spec.conv) {
      case 'd':
      case 'i': {
        const v = spec.size === 8 ? BigInt.asIntN(64, raw) : BigInt.asIntN(32, raw);
        const sign = v >= 0n ? (spec.flags.includes('+') ? '+' : spec.flags.includes(' ') ? ' ' : '') : '';
        out += pad(sign + v.toString(), spec, true);
        binArgsUsed += spec.size;
        break;
      }
      case 'u':
      case 'x':
      case 'X': {
        const v = spec.size === 8 ? raw : BigInt.asUintN(32, raw);
        const text = spec.conv === 'u' ? v.toString() : spec.conv === 'x' ? v.toString(16) : v.toString(16).toUpperCase();
        out += pad(text, spec, true);
        binArgsUsed += spec.size;
        break;
      }
      case 'c':
        out += pad(String.fromCharCode(Number(raw & 0xffn)), spec, false);
        binArgsUsed += 1;
        break;
      case 's':
      case 'pks':
      case 'pus': {
        // bpf_trace_copy_string(): what cannot be read prints as an empty string
        const room = MAX_BPRINTF_BIN_ARGS - binArgsUsed;
        if (room <= 0) return { ok: false, errno: ENOSPC };
        const s = spec.conv === 'pus' ? '' : (mem.cString(raw, room) ?? '');
        binArgsUsed += s.length + 1;
        out += pad(s, spec, false);
        break;
      }
      case 'pI4':
      case 'pi4':
      case 'pI6':
      case 'pi6': {
        const len = spec.conv.endsWith('4') ? 4 : 16;
        // copy_from_kernel_nofault failing gives zeros, as the kernel does
        const bytes = mem.read(raw, len) ?? new Uint8Array(len);
        const text = formatIp(bytes, spec.conv);
        binArgsUsed += text.length + 1;
        out += pad(text, spec, false);
        break;
      }
      case 'px':
        out += pad(raw.toString(16).padStart(16, '0'), spec, false);
        binArgsUsed += 8;
        break;
      case 'pB':
        out += pad('0x' + raw.toString(16), spec, false);
        binArgsUsed += 19;
        break;
      default: // p pK ps pS
        out += pad(raw === 0n ? '(null)' : hashPointer(raw), spec, false);
        binArgsUsed += 8;
    }
    if (binArgsUsed > MAX_BPRINTF_BIN_ARGS) return { ok: false, errno: ENOSPC };
  }
  return { ok: true, text: out };
}
