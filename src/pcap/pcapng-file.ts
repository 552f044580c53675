// pcapng, as specified in draft-ietf-opsawg-pcapng (section 3: general block structure,
// 4.1 SHB, 4.2 IDB, 4.3 EPB, 4.4 SPB, appendix A the obsolete Packet Block) and read by
// Wireshark's wiretap/pcapng.c. Unknown block types and options are skipped, as section 3.1 asks.

import { CaptureError, type CapturedPacket, type CaptureInterface } from './types.js';

export const BLOCK_SHB = 0x0a0d0d0a;
export const BLOCK_IDB = 0x00000001;
export const BLOCK_PB = 0x00000002; // obsolete Packet Block
export const BLOCK_SPB = 0x00000003;
export const BLOCK_EPB = 0x00000006;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

// Interface Description Block options (section 4.2).
const OPT_ENDOFOPT = 0;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;

const utf8 = new TextDecoder('utf-8', { fatal: false });

export function isPcapngMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x0a && bytes[1] === 0x0d && bytes[2] === 0x0d && bytes[3] === 0x0a;
}

interface NgInterface extends CaptureInterface {
  /** if_tsresol: timestamp units are 10^-n (or 2^-n when binary) seconds */
  resolution: { binary: boolean; exponent: number };
  offsetSeconds: bigint;
  globalIndex: number;
}

/** Timestamp units to nanoseconds for one interface (if_tsresol, section 4.2). */
function toNanoseconds(units: bigint, itf: NgInterface): bigint {
  const { binary, exponent } = itf.resolution;
  let ns: bigint;
  if (binary) ns = (units * 1_000_000_000n) >> BigInt(exponent);
  else if (exponent <= 9) ns = units * 10n ** BigInt(9 - exponent);
  else ns = units / 10n ** BigInt(exponent - 9);
  return ns + itf.offsetSeconds * 1_000_000_000n;
}

export class PcapngFileReader {
  readonly format = 'pcapng' as const;
  /** Every interface seen so far, across sections; grows while packets are read. */
  readonly interfaces: CaptureInterface[] = [];
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (!isPcapngMagic(bytes)) throw new CaptureError('not a pcapng file: it does not start with a section header block', 0);
  }

  *packets(): Generator<CapturedPacket, void, undefined> {
    const { bytes, view } = this;
    let little = true;
    let section = -1;
    let sectionInterfaces: NgInterface[] = [];
    let offset = 0;
    let index = 0;
    while (offset < bytes.length) {
      const next = index + 1; // the packet number a problem here is reported against
      const left = bytes.length - offset;
      if (left < 12) throw new CaptureError(`truncated block header: ${left} bytes left, a block needs at least 12`, offset, next);
      const rawType = view.getUint32(offset, true);
      if (rawType === BLOCK_SHB) {
        // The SHB's byte-order magic decides how this whole section is read (section 4.1).
        const magic = view.getUint32(offset + 8, true);
        if (magic === BYTE_ORDER_MAGIC) little = true;
        else if (view.getUint32(offset + 8, false) === BYTE_ORDER_MAGIC) little = false;
        else throw new CaptureError(`section header block has an unknown byte-order magic 0x${magic.toString(16)}`, offset + 8, next);
        section++;
        sectionInterfaces = [];
      } else if (section < 0) {
        throw new CaptureError('the first block is not a section header block', offset, next);
      }
      const type = view.getUint32(offset, little);
      const totalLength = view.getUint32(offset + 4, little);
      if (totalLength < 12 || totalLength % 4 !== 0) {
        throw new CaptureError(`block of type 0x${type.toString(16)} has total length ${totalLength}, which is not a multiple of 4 of at least 12`, offset, next);
      }
      if (totalLength > left) {
        throw new CaptureError(`truncated block: block of type 0x${type.toString(16)} says ${totalLength} bytes, ${left} remain in the file`, offset, next);
      }
      const trailer = view.getUint32(offset + totalLength - 4, little);
      if (trailer !== totalLength) {
        throw new CaptureError(`block of type 0x${type.toString(16)} has total length ${totalLength} at its start but ${trailer} at its end`, offset, next);
      }
      const bodyEnd = offset + totalLength - 4;
      const need = (min: number, what: string) => {
        if (totalLength < min) throw new CaptureError(`${what} is ${totalLength} bytes, shorter than its ${min}-byte minimum`, offset, next);
      };
      const iface = (id: number, what: string): NgInterface => {
        const itf = sectionInterfaces[id];
        if (!itf) {
          throw new CaptureError(`${what} names interface ${id}, but the section has defined only ${sectionInterfaces.length}`, offset, next);
        }
        return itf;
      };
      const checkLengths = (captured: number, room: number, itf: NgInterface, what: string) => {
        if (captured > room) {
          throw new CaptureError(`${what} says its captured length is ${captured}, but the block holds only ${room} bytes of data`, offset, next);
        }
        if (itf.snapLength !== 0 && captured > itf.snapLength) {
          throw new CaptureError(`captured length ${captured} exceeds the snapshot length ${itf.snapLength}`, offset, next);
        }
      };

      switch (type) {
        case BLOCK_SHB: {
          need(28, 'section header block');
          const major = view.getUint16(offset + 12, little);
          // Section 4.1: a reader must not read a section whose major version it does not know.
          if (major !== 1) throw new CaptureError(`section header block has version ${major}, only 1.x is known`, offset + 12, next);
          break;
        }
        case BLOCK_IDB: {
          need(20, 'interface description block');
          const itf: NgInterface = {
            linkType: view.getUint16(offset + 8, little),
            snapLength: view.getUint32(offset + 12, little),
            unitsPerSecond: 1_000_000n,
            section,
            resolution: { binary: false, exponent: 6 },
            offsetSeconds: 0n,
            globalIndex: this.interfaces.length,
          };
          for (const opt of this.options(offset + 16, bodyEnd, little, next, offset)) {
            if (opt.code === IF_NAME) itf.name = utf8.decode(opt.value).replace(/\0+$/, '');
            else if (opt.code === IF_DESCRIPTION) itf.description = utf8.decode(opt.value).replace(/\0+$/, '');
            else if (opt.code === IF_TSRESOL && opt.value.length >= 1) {
              const r = opt.value[0];
              itf.resolution = { binary: (r & 0x80) !== 0, exponent: r & 0x7f };
              itf.unitsPerSecond = itf.resolution.binary ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r & 0x7f);
            } else if (opt.code === IF_TSOFFSET && opt.value.length >= 8) {
              itf.offsetSeconds = new DataView(opt.value.buffer, opt.value.byteOffset, 8).getBigInt64(0, little);
            }
          }
          sectionInterfaces.push(itf);
          const { resolution: _r, offsetSeconds: _o, globalIndex: _g, ...visible } = itf;
          this.interfaces.push(visible);
          break;
        }
        case BLOCK_EPB:
        case BLOCK_PB: {
          const what = type === BLOCK_EPB ? 'enhanced packet block' : 'packet block';
          need(32, what);
          const id = type === BLOCK_EPB ? view.getUint32(offset + 8, little) : view.getUint16(offset + 8, little);
          const itf = iface(id, what);
          const high = view.getUint32(offset + 12, little);
          const low = view.getUint32(offset + 16, little);
          const captured = view.getUint32(offset + 20, little);
          const original = view.getUint32(offset + 24, little);
          checkLengths(captured, bodyEnd - (offset + 28), itf, what);
          index = next;
          yield this.packet(index, itf, (BigInt(high) << 32n) | BigInt(low), offset + 28, captured, original);
          break;
        }
        case BLOCK_SPB: {
          need(16, 'simple packet block');
          // Section 4.4: an SPB belongs to the section's first interface and has no timestamp.
          const itf = iface(0, 'simple packet block');
          const original = view.getUint32(offset + 8, little);
          const room = bodyEnd - (offset + 12);
          let captured = Math.min(original, room);
          if (itf.snapLength !== 0) captured = Math.min(captured, itf.snapLength);
          index = next;
          yield this.packet(index, itf, null, offset + 12, captured, original);
          break;
        }
        default:
          // NRB, ISB, DSB, custom and unknown blocks carry nothing a packet run needs.
          break;
      }
      offset += totalLength;
    }
  }

  private packet(index: number, itf: NgInterface, units: bigint | null, start: number, captured: number, original: number): CapturedPacket {
    const pkt: CapturedPacket = {
      index,
      timestampNs: units === null ? 0n : toNanoseconds(units, itf),
      linkType: itf.linkType,
      interfaceIndex: itf.globalIndex,
      data: this.bytes.subarray(start, start + captured),
      originalLength: original,
    };
    if (itf.name !== undefined) pkt.interfaceName = itf.name;
    return pkt;
  }

  /** The options of a block from `start` to `end` (section 3.5): code, length, value padded to 4. */
  private *options(start: number, end: number, little: boolean, packetNumber: number, blockOffset: number) {
    let at = start;
    while (at + 4 <= end) {
      const code = this.view.getUint16(at, little);
      const length = this.view.getUint16(at + 2, little);
      if (code === OPT_ENDOFOPT) return;
      if (at + 4 + length > end) {
        throw new CaptureError(`option ${code} at byte ${at} runs ${at + 4 + length - end} bytes past the end of its block`, blockOffset, packetNumber);
      }
      yield { code, value: this.bytes.subarray(at + 4, at + 4 + length) };
      at += 4 + ((length + 3) & ~3);
    }
  }
}
