// Text forms of link and network addresses, shared by the packet decoder and the scenario files.
// IPv4: RFC 791 dotted quad. IPv6: RFC 4291 section 2.2 for what may be read, RFC 5952 section 4
// for the one canonical form we print. MAC: IEEE 802 colon-separated lowercase hex, as tshark
// prints `eth.src`.

/** A parse failure: names the text and what is wrong with it. */
export class AddressParseError extends Error {
  override readonly name = 'AddressParseError';
}

function hex2(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

/** `10.0.0.1` from 4 bytes at `offset`. */
export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** 4 bytes in network order from `10.0.0.1`. Only the strict dotted quad (no `010`, no `10.1`). */
export function parseIPv4(text: string): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4) throw new AddressParseError(`"${text}" is not an IPv4 address: expected 4 dot-separated numbers`);
  const out = new Uint8Array(4);
  parts.forEach((part, i) => {
    // Leading zeros are refused because inet_aton would read them as octal.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) {
      throw new AddressParseError(`"${text}" is not an IPv4 address: part ${i + 1} "${part}" is not a number 0..255`);
    }
    out[i] = Number(part);
  });
  return out;
}

/** The address as a 32-bit number (host value, e.g. 0x0a000001 for 10.0.0.1). */
export function ipv4ToNumber(text: string): number {
  const b = parseIPv4(text);
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

export function ipv4FromNumber(value: number): string {
  return `${(value >>> 24) & 0xff}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

/** RFC 5952 text of 16 bytes at `offset`: lowercase, no leading zeros, the longest run (first if
 *  tied) of two or more zero groups as `::`, and IPv4-mapped addresses as `::ffff:a.b.c.d`
 *  (section 5). */
export function formatIPv6(bytes: Uint8Array, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[offset + 2 * i] << 8) | bytes[offset + 2 * i + 1]);
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) return `::ffff:${formatIPv4(bytes, offset + 12)}`;
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  // RFC 5952 4.2.2: a single zero group is not shortened.
  if (bestLen < 2) return groups.map((g) => g.toString(16)).join(':');
  const head = groups.slice(0, bestStart).map((g) => g.toString(16)).join(':');
  const tail = groups.slice(bestStart + bestLen).map((g) => g.toString(16)).join(':');
  return `${head}::${tail}`;
}

/** 16 bytes from any RFC 4291 2.2 text form: full, `::`-compressed, or with a trailing dotted quad. */
export function parseIPv6(text: string): Uint8Array {
  const fail = (why: string): never => {
    throw new AddressParseError(`"${text}" is not an IPv6 address: ${why}`);
  };
  let body = text;
  const tailBytes: number[] = [];
  const lastColon = body.lastIndexOf(':');
  if (body.includes('.', lastColon)) {
    let v4: Uint8Array;
    try {
      v4 = parseIPv4(body.slice(lastColon + 1));
    } catch {
      return fail('the embedded IPv4 part is not a dotted quad');
    }
    tailBytes.push(...v4);
    body = body.slice(0, lastColon + 1) + '0:0'; // placeholder groups, replaced below
  }
  const halves = body.split('::');
  if (halves.length > 2) fail('"::" appears more than once');
  const parseGroups = (s: string): number[] =>
    s === ''
      ? []
      : s.split(':').map((g) => {
          if (!/^[0-9a-fA-F]{1,4}$/.test(g)) fail(`group "${g}" is not 1 to 4 hex digits`);
          return parseInt(g, 16);
        });
  const head = parseGroups(halves[0]);
  const tail = halves.length === 2 ? parseGroups(halves[1]) : [];
  let groups: number[];
  if (halves.length === 2) {
    if (head.length + tail.length > 7) fail('too many groups for "::" to stand for any');
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    if (head.length !== 8) fail(`expected 8 groups, found ${head.length}`);
    groups = head;
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  if (tailBytes.length) out.set(tailBytes, 12);
  return out;
}

/** Bytes of either family: IPv4 dotted quad (4 bytes) or IPv6 (16 bytes). */
export function parseIP(text: string): Uint8Array {
  return text.includes(':') ? parseIPv6(text) : parseIPv4(text);
}

/** Text of a 4- or 16-byte address. */
export function formatIP(bytes: Uint8Array): string {
  if (bytes.length === 4) return formatIPv4(bytes);
  if (bytes.length === 16) return formatIPv6(bytes);
  throw new AddressParseError(`an IP address has 4 or 16 bytes, not ${bytes.length}`);
}

/** `aa:bb:cc:dd:ee:ff` from 6 bytes at `offset`. */
export function formatMac(bytes: Uint8Array, offset = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(hex2(bytes[offset + i]));
  return parts.join(':');
}

/** 6 bytes from `aa:bb:cc:dd:ee:ff` (also `-` separators, either case). */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) {
    throw new AddressParseError(`"${text}" is not a MAC address: expected 6 two-digit hex groups like 02:00:00:00:00:01`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}
