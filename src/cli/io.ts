// Reading the CLI's inputs: files or stdin, raw bytes or hex text.
import { readFileSync } from 'node:fs';

export class UsageError extends Error {}

/** Reads a file, or stdin for '-'. */
export function readInput(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path === '-' ? 0 : path));
  } catch (err) {
    throw new UsageError(`cannot read ${path === '-' ? 'stdin' : path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

const HEX_TEXT = /^[\s0-9a-fA-Fx,]*$/;

/**
 * Parses hex text: bytes as pairs of digits, optionally separated by white space or commas,
 * optionally prefixed 0x (e.g. "b7 00 00 00 01 00 00 00", "0xb7,0x00", "b700000001000000").
 */
export function parseHex(text: string, what: string): Uint8Array {
  const tokens = text.trim().split(/[\s,]+/).filter(Boolean);
  const digits = tokens.map((t) => t.replace(/^0x/i, '')).join('');
  if (!/^[0-9a-fA-F]*$/.test(digits)) {
    const bad = tokens.find((t) => !/^(0x)?[0-9a-fA-F]*$/i.test(t));
    throw new UsageError(`${what}: not hex: '${bad}'`);
  }
  if (digits.length % 2 !== 0) throw new UsageError(`${what}: odd number of hex digits (${digits.length})`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export type ByteFormat = 'raw' | 'hex' | 'auto';

/** Bytes of a file in the given format; 'auto' takes text made only of hex digits as hex. */
export function decodeBytes(data: Uint8Array, format: ByteFormat, what: string): Uint8Array {
  if (format === 'raw') return data;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(data);
  if (format === 'hex') return parseHex(text, what);
  return data.length > 0 && HEX_TEXT.test(text) && /[0-9a-fA-F]/.test(text) ? parseHex(text, what) : data;
}

export const hex64 = (v: bigint): string => '0x' + BigInt.asUintN(64, v).toString(16);
