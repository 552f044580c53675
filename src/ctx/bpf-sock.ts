// struct bpf_sock (include/uapi/linux/bpf.h): what __sk_buff.sk and bpf_sock_addr.sk point to.
// bpfbed lays one out as read-only memory from the socket's fields (the verifier's
// bpf_sock_is_valid_access / bpf_sock_common_is_valid_access limit which fields a program may
// read; here every field reads, see the report of src/ctx).

export const BPF_SOCK_SIZE = 80;

/** The fields of a socket as struct bpf_sock shows them. */
export interface BpfSockFields {
  family?: number;
  type?: number;
  protocol?: number;
  /** Local address (skc_rcv_saddr / skc_v6_rcv_saddr) and port (host order). */
  srcIp?: Uint8Array;
  srcPort?: number;
  /** Peer address and port (host order; shown big-endian in dst_port). */
  dstIp?: Uint8Array;
  dstPort?: number;
  state?: number;
  boundDevIf?: number;
  mark?: number;
  priority?: number;
}

/** Writes struct bpf_sock at wasm offset `o`. */
export function writeBpfSock(dv: DataView, o: number, sk: BpfSockFields): void {
  dv.setUint32(o + 0, sk.boundDevIf ?? 0, true);
  dv.setUint32(o + 4, sk.family ?? 0, true);
  dv.setUint32(o + 8, sk.type ?? 0, true);
  dv.setUint32(o + 12, sk.protocol ?? 0, true);
  dv.setUint32(o + 16, sk.mark ?? 0, true);
  dv.setUint32(o + 20, sk.priority ?? 0, true);
  const put = (at4: number, ip: Uint8Array | undefined) => {
    if (ip?.length === 4) for (let i = 0; i < 4; i++) dv.setUint8(at4 + i, ip[i]);
    if (ip?.length === 16) for (let i = 0; i < 16; i++) dv.setUint8(at4 + 4 + i, ip[i]);
  };
  put(o + 24, sk.srcIp); // src_ip4 at 24, src_ip6[4] at 28
  dv.setUint32(o + 44, sk.srcPort ?? 0, true); // src_port: host order
  dv.setUint16(o + 48, sk.dstPort ?? 0, false); // dst_port: __be16 (then 16 bits of padding)
  put(o + 52, sk.dstIp); // dst_ip4 at 52, dst_ip6[4] at 56
  dv.setUint32(o + 72, sk.state ?? 0, true);
  dv.setInt32(o + 76, -1, true); // rx_queue_mapping: -1 (NO_QUEUE_MAPPING) when not recorded
}
