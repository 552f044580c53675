// Text <-> bytes for the addresses a scenario writes the way `ip addr`, `ip route` and
// `ip neigh` take them: dotted-quad IPv4, RFC 5952 / RFC 4291 IPv6, colon-separated MACs and
// CIDR prefixes. Addresses are kept as bytes in network order (what struct bpf_fib_lookup and
// the packet hold), so comparisons never depend on host byte order.

export type Family = 4 | 6;

/** AF_INET / AF_INET6 as include/linux/socket.h numbers them. */
export const AF_INET = 2;
export const AF_INET6 = 10;

export class AddressError extends Error {
  constructor(what: string, text: string, why: string) {
    super(`${what} "${text}": ${why}`);
    this.name = 'AddressError';
  }
}

/** Parses dotted-quad IPv4 ("192.168.1.10") into 4 bytes, network order. */
export function parseIPv4(text: string, what = 'IPv4 address'): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4) throw new AddressError(what, text, 'expected four dot-separated numbers');
  const out = new Uint8Array(4);
  parts.forEach((p, i) => {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new AddressError(what, text, `part ${i + 1} "${p}" is not 0..255`);
    out[i] = Number(p);
  });
  return out;
}

/** Parses IPv6 text, with "::" compression and an optional trailing dotted quad, into 16 bytes. */
export function parseIPv6(text: string, what = 'IPv6 address'): Uint8Array {
  const halves = text.split('::');
  if (halves.length > 2) throw new AddressError(what, text, '"::" may appear only once');
  const groups = (s: string): number[] => {
    if (s === '') return [];
    const words: number[] = [];
    const parts = s.split(':');
    parts.forEach((p, i) => {
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p, what);
        words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
        words.push(parseInt(p, 16));
      } else {
        throw new AddressError(what, text, `group "${p}" is not 1..4 hex digits`);
      }
    });
    return words;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) {
    throw new AddressError(what, text, 'wrong number of 16-bit groups');
  }
  const words = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** Parses an address of either family, telling them apart by ':'. */
export function parseIP(text: string, what = 'IP address'): { family: Family; addr: Uint8Array } {
  return text.includes(':') ? { family: 6, addr: parseIPv6(text, what) } : { family: 4, addr: parseIPv4(text, what) };
}

export interface Prefix {
  family: Family;
  addr: Uint8Array;
  prefixLen: number;
}

/**
 * Parses "10.0.0.0/8", "fd00::/64", a bare address (a host prefix) or "default" (0.0.0.0/0 for
 * `defaultFamily`), as `ip route` takes them.
 */
export function parsePrefix(text: string, what = 'prefix', defaultFamily: Family = 4): Prefix {
  if (text === 'default') {
    return { family: defaultFamily, addr: new Uint8Array(defaultFamily === 4 ? 4 : 16), prefixLen: 0 };
  }
  const slash = text.indexOf('/');
  const { family, addr } = parseIP(slash < 0 ? text : text.slice(0, slash), what);
  const max = family === 4 ? 32 : 128;
  let prefixLen = max;
  if (slash >= 0) {
    const len = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(len) || Number(len) > max) throw new AddressError(what, text, `prefix length must be 0..${max}`);
    prefixLen = Number(len);
  }
  return { family, addr, prefixLen };
}

/** Parses "02:00:00:00:00:01" (or with '-') into 6 bytes. */
export function parseMac(text: string, what = 'MAC address'): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new AddressError(what, text, 'expected six hex bytes separated by ":"');
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function formatIPv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/**
 * RFC 5952 canonical text: lower case, longest run of two or more zero groups as "::", and an
 * IPv4-mapped address with its IPv4 part in dotted form (§5: ::ffff:192.0.2.1), as inet_ntop
 * prints it.
 */
export function formatIPv6(b: Uint8Array, off = 0): string {
  let mapped = b[off + 10] === 0xff && b[off + 11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) mapped = b[off + i] === 0;
  if (mapped) return `::ffff:${formatIPv4(b, off + 12)}`;
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

export function formatIP(addr: Uint8Array): string {
  return addr.length === 4 ? formatIPv4(addr) : formatIPv6(addr);
}

export function formatMac(b: Uint8Array, off = 0): string {
  return Array.from(b.subarray(off, off + 6), (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** True when the first `prefixLen` bits of `addr` equal those of `prefix`. */
export function prefixContains(prefix: Uint8Array, prefixLen: number, addr: Uint8Array): boolean {
  if (prefix.length !== addr.length) return false;
  const whole = prefixLen >> 3;
  for (let i = 0; i < whole; i++) if (prefix[i] !== addr[i]) return false;
  const rest = prefixLen & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (prefix[whole] & mask) === (addr[whole] & mask);
}

/** The prefix with its host bits cleared (the network address `ip route` shows). */
export function maskPrefix(addr: Uint8Array, prefixLen: number): Uint8Array {
  const out = new Uint8Array(addr.length);
  for (let i = 0; i < addr.length; i++) {
    const bits = Math.max(0, Math.min(8, prefixLen - 8 * i));
    out[i] = addr[i] & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Number of leading bits `a` and `b` share (for RFC 6724 rule 8, longest matching prefix). */
export function commonPrefixLen(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ^ b[i];
    if (x === 0) {
      n += 8;
      continue;
    }
    return n + Math.clz32(x) - 24;
  }
  return n;
}
