// The compute-bound workloads of `npm run bench`: one C function each in bpf/bench/, compiled
// to BPF (committed under fixtures/obj/bench/) and natively at bench time. Inputs are generated
// deterministically so every run and every engine sees the same bytes.

export interface Workload {
  /** Also the function (program) name in the object and the native entry point. */
  name: string;
  /** One line for the table's legend. */
  what: string;
  /** Repository-relative paths. */
  source: string;
  object: string;
  input(): Uint8Array;
  /**
   * The input for the kernel column, or why the kernel cannot run this program. The kernel
   * column runs the same bytecode, but the verifier must prove every loop terminates and every
   * access in bounds by walking it, which limits what it accepts (kernel/bpf/verifier.c).
   */
  kernelInput: (() => Uint8Array) | { na: string };
}

const KIB = 1024;

/** xorshift32: a fixed, fast byte stream (the bytes only need to be the same every run). */
function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

/** Printable text with a newline every 1..80 characters, like a log file. */
function textWithLines(length: number, seed: number): Uint8Array {
  const text = pseudoRandomBytes(length, seed);
  let untilNewline = 0;
  for (let i = 0; i < length; i++) {
    if (untilNewline === 0) {
      text[i] = 0x0a;
      untilNewline = 1 + (text[i + 1] ?? 0) % 80;
    } else {
      text[i] = 0x20 + (text[i] % 95);
      untilNewline--;
    }
  }
  return text;
}

function u32le(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value, true);
  return bytes;
}

export const WORKLOADS: readonly Workload[] = [
  {
    name: 'fnv1a',
    what: '64-bit FNV-1a over 64 KiB (7 BPF instructions per byte)',
    source: 'bpf/bench/fnv1a.c',
    object: 'fixtures/obj/bench/fnv1a.o',
    input: () => pseudoRandomBytes(64 * KIB, 0x9e3779b9),
    kernelInput: () => pseudoRandomBytes(64 * KIB, 0x9e3779b9),
  },
  {
    name: 'bytescan',
    what: "count '\\n' in 64 KiB of text (9 BPF instructions per byte)",
    source: 'bpf/bench/bytescan.c',
    object: 'fixtures/obj/bench/bytescan.o',
    input: () => textWithLines(64 * KIB, 0x2545f491),
    // A data-dependent branch per byte leaves one unexplored path per byte on the verifier's
    // stack, and it gives up past 8192 (BPF_COMPLEXITY_LIMIT_JMP_SEQ): the kernel gets 4 KiB.
    kernelInput: () => textWithLines(4 * KIB, 0x2545f491),
  },
  {
    name: 'primes',
    what: 'count primes below 20000 by trial division (a 64-bit modulo per trial)',
    source: 'bpf/bench/primes.c',
    object: 'fixtures/obj/bench/primes.o',
    input: () => u32le(20_000),
    // The verifier has to walk every iteration of a loop whose bound is data; it gives up, and
    // the kernel column shows its message.
    kernelInput: () => u32le(20_000),
  },
];
