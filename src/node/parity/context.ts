// Context fields between a kernel test run and bpfbed's: the ctx_in both get from the scenario's
// packet metadata, and the ctx_out fields BPF_PROG_TEST_RUN copies back, compared field by field
// (net/bpf/test_run.c: convert___skb_to_skb / convert_skb_to___skb for tc and socket filters,
// xdp_convert_md_to_buff / xdp_convert_buff_to_md for XDP; offsets from include/uapi/linux/bpf.h).
import type { PacketMetadata } from '../../scenario/types.js';
import { SK_BUFF_CTX_SIZE } from '../kernel-scenario.js';

type Field = readonly [name: string, offset: number, size: 4 | 8];

/** struct __sk_buff fields convert_skb_to___skb writes into ctx_out. */
export const SKB_CTX_OUT_FIELDS: readonly Field[] = [
  ['mark', 8, 4],
  ['priority', 32, 4],
  ['ingress_ifindex', 36, 4],
  ['ifindex', 40, 4],
  ...[0, 1, 2, 3, 4].map((i): Field => [`cb[${i}]`, 48 + 4 * i, 4]),
  ['tstamp', 152, 8],
  ['wire_len', 160, 4],
  ['gso_segs', 164, 4],
  ['hwtstamp', 184, 8],
];

/** struct xdp_md: ctx_out is ctx_in with data and data_end made relative to data_meta. */
export const XDP_CTX_OUT_FIELDS: readonly Field[] = [
  ['data', 0, 4],
  ['data_end', 4, 4],
  ['data_meta', 8, 4],
  ['ingress_ifindex', 12, 4],
  ['rx_queue_index', 16, 4],
  ['egress_ifindex', 20, 4],
];

/**
 * The __sk_buff ctx_in for a packet: mark, priority and cb from the scenario's metadata, and the
 * device as ifindex (and ingress_ifindex for an arriving packet) when the run happens where a
 * device of that ifindex exists. Returns the fields it could not pass: convert___skb_to_skb
 * refuses tc_index, queue_mapping and hash (-EINVAL), so they reach bpfbed's pipeline only.
 */
export function skbCtxIn(meta: PacketMetadata, device?: { ifindex: number; ingress: boolean }): { ctx: Uint8Array; dropped: string[] } {
  const ctx = new Uint8Array(SK_BUFF_CTX_SIZE);
  const dv = new DataView(ctx.buffer);
  dv.setUint32(8, (meta.mark ?? 0) >>> 0, true);
  dv.setUint32(32, (meta.priority ?? 0) >>> 0, true);
  (meta.cb ?? []).slice(0, 5).forEach((v, i) => dv.setUint32(48 + 4 * i, v >>> 0, true));
  if (device && device.ifindex > 1) {
    dv.setUint32(40, device.ifindex, true);
    if (device.ingress) dv.setUint32(36, device.ifindex, true);
  }
  const dropped = (['tcIndex', 'queueMapping', 'hash'] as const).filter((k) => (meta[k] ?? 0) !== 0);
  return { ctx, dropped };
}

const read = (b: Uint8Array, off: number, size: 4 | 8): bigint => {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return size === 4 ? BigInt(dv.getUint32(off, true)) : dv.getBigUint64(off, true);
};

/** Compares the copied-back fields of two ctx_outs; `kind` 'xdp' or 'skb'. */
export function compareCtxOut(kind: 'xdp' | 'skb', kernel: Uint8Array, bpfbed: Uint8Array): { fields: number; differences: string[] } {
  const fields = kind === 'xdp' ? XDP_CTX_OUT_FIELDS : SKB_CTX_OUT_FIELDS;
  const differences: string[] = [];
  let compared = 0;
  for (const [name, off, size] of fields) {
    if (kernel.length < off + size || bpfbed.length < off + size) {
      differences.push(`${name}: ctx_out too short (kernel ${kernel.length} bytes, bpfbed ${bpfbed.length})`);
      continue;
    }
    compared++;
    const k = read(kernel, off, size);
    const b = read(bpfbed, off, size);
    if (k !== b) differences.push(`${name}: kernel 0x${k.toString(16)}, bpfbed 0x${b.toString(16)}`);
  }
  return { fields: compared, differences };
}
