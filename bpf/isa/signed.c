// bpfbed-cflags: -mcpu=v4
// Signed division, sign-extending loads and moves, bswap, gotol: what -mcpu=v4 emits from C.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc") int signed_ops(struct __sk_buff *skb) {
  long a = (long)skb->len - 1000;
  int b = (int)skb->mark;
  signed char c = (signed char)skb->priority;
  short d = (short)skb->hash;
  long q = a / (b | 1);
  long r = a % (b | 3);
  int q32 = b / (c | 1);
  int r32 = b % (d | 5);
  unsigned long swapped = __builtin_bswap64((unsigned long)q) ^ __builtin_bswap16((unsigned short)d);
  return (int)(q + r + q32 + r32 + (long)swapped);
}

char LICENSE[] SEC("license") = "GPL";
