// The load-balancer map entries as the bytes the kernel holds, laid out by hand from
// bpf/kpr/lb.h for users without BTF (bpftool map update, the kernel oracle): addresses and
// __be16 ports in network order, everything else little-endian as on x86-64 and arm64 (the BPF
// target's host order). test/k8s checks these layouts against the BTF of the real structs.
import { parseIPv4, parseIPv6 } from '../env/addr.js';
import type { LbBackendValue, LbKey, LbMapEntries, LbMapName, LbRevNatValue, LbServiceValue } from './lb-maps.js';

export interface RawEntry {
  key: Uint8Array;
  value: Uint8Array;
}

const addressLength = (v6: boolean) => (v6 ? 16 : 4);
const addr = (text: string, v6: boolean) => (v6 ? parseIPv6(text) : parseIPv4(text));

/** struct lb4_key (12 bytes) / lb6_key (24 bytes). */
export function encodeLbKey(key: LbKey, v6: boolean): Uint8Array {
  const a = addressLength(v6);
  const out = new Uint8Array(a + 8);
  const view = new DataView(out.buffer);
  out.set(addr(key.address, v6), 0);
  view.setUint16(a, key.dport, false);
  view.setUint16(a + 2, key.backend_slot, true);
  out[a + 4] = key.proto;
  out[a + 5] = key.scope;
  return out;
}

/** struct lb4_service / lb6_service (12 bytes). */
export function encodeLbService(value: LbServiceValue): Uint8Array {
  const out = new Uint8Array(12);
  const view = new DataView(out.buffer);
  view.setUint32(0, value.backend_id, true);
  view.setUint16(4, value.count, true);
  view.setUint16(6, value.rev_nat_index, true);
  out[8] = value.flags;
  out[9] = value.flags2;
  return out;
}

/** struct lb4_backend (12 bytes) / lb6_backend (24 bytes). */
export function encodeLbBackend(value: LbBackendValue, v6: boolean): Uint8Array {
  const a = addressLength(v6);
  const out = new Uint8Array(a + 8);
  const view = new DataView(out.buffer);
  out.set(addr(value.address, v6), 0);
  view.setUint16(a, value.port, false);
  out[a + 2] = value.proto;
  out[a + 3] = value.flags;
  view.setUint32(a + 4, value.ifindex, true);
  return out;
}

/** struct lb4_reverse_nat (8 bytes) / lb6_reverse_nat (20 bytes). */
export function encodeLbRevNat(value: LbRevNatValue, v6: boolean): Uint8Array {
  const a = addressLength(v6);
  const out = new Uint8Array(a + 4);
  out.set(addr(value.address, v6), 0);
  new DataView(out.buffer).setUint16(a, value.port, false);
  return out;
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, true);
  return out;
}

function u16(n: number): Uint8Array {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, n, true);
  return out;
}

/** Every entry of every map as key and value bytes. */
export function encodeLbEntries(entries: LbMapEntries): Record<LbMapName, RawEntry[]> {
  const out = {} as Record<LbMapName, RawEntry[]>;
  for (const v6 of [false, true]) {
    const p = v6 ? 'lb6' : 'lb4';
    out[`${p}_services`] = entries[`${p}_services`].map((e) => ({ key: encodeLbKey(e.key, v6), value: encodeLbService(e.value) }));
    out[`${p}_backends`] = entries[`${p}_backends`].map((e) => ({ key: u32(e.key), value: encodeLbBackend(e.value, v6) }));
    out[`${p}_reverse_nat`] = entries[`${p}_reverse_nat`].map((e) => ({ key: u16(e.key), value: encodeLbRevNat(e.value, v6) }));
  }
  return out;
}
