// Socket filter programs (BPF_PROG_TYPE_SOCKET_FILTER, section `socket`): the __sk_buff rules of
// sk_filter_is_valid_access (src/ctx/skb.ts, kind 'socket_filter': no direct packet access),
// the legacy LD_ABS / LD_IND loads over the packet from skb->data, and the verdict: the number
// of bytes to keep, 0 to drop (net/core/filter.c sk_filter_trim_cap).
import { ETH_HLEN, skbFromFrame, type SkbState, type SkbStateInit } from './skb.js';

/**
 * The skb a socket filter sees for an Ethernet frame under BPF_PROG_TEST_RUN
 * (net/bpf/test_run.c bpf_prog_test_run_skb, is_l2 false): eth_type_trans pulls the Ethernet
 * header, so skb->data (and LD_ABS offset 0) is the network header; protocol and pkt_type come
 * from the frame; skb->len excludes the 14 header bytes. On a real socket the data starts where
 * the protocol delivers it (the network header for raw and packet sockets of type SOCK_DGRAM).
 */
export function socketFilterSkbFromFrame(frame: Uint8Array, init: SkbStateInit = {}): SkbState {
  const skb = skbFromFrame(frame, init);
  return { ...skb, data: frame.slice(ETH_HLEN), pulledMac: frame.slice(0, ETH_HLEN), networkOffset: 0, wireLen: init.wireLen ?? frame.length - ETH_HLEN };
}

/**
 * What BPF_PROG_TEST_RUN returns as data_out for a socket filter: it pushes the Ethernet header
 * back as 14 zero bytes (`memset(__skb_push(skb, hh_len), 0, hh_len)`) before the data.
 */
export function socketFilterTestRunDataOut(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(ETH_HLEN + data.length);
  out.set(data, ETH_HLEN);
  return out;
}
