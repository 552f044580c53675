// Ordinary clang output (-mcpu=v3): maps, global data, subprograms, a callback, atomics,
// several programs in a section, for the disassembler golden test.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 8);
  __type(key, int);
  __type(value, long);
} ct_map SEC(".maps");

int counter = 5;
volatile const int limit = 100;

static __attribute__((noinline)) int scale(int x) { return x * counter + 1; }

static long visit(void *map, int *key, long *value, void *ctx) {
  *(long *)ctx += *value;
  return 0;
}

SEC("xdp") int count_ifindex(struct xdp_md *ctx) {
  int key = ctx->ingress_ifindex;
  long *value = bpf_map_lookup_elem(&ct_map, &key);
  if (!value) return scale(key);
  __sync_fetch_and_add(value, 1);
  long total = 0;
  bpf_for_each_map_elem(&ct_map, visit, &total, 0);
  return total > limit ? XDP_DROP : XDP_PASS;
}

SEC("tc") int swap_and_sum(struct __sk_buff *skb) {
  void *data = (void *)(long)skb->data;
  void *end = (void *)(long)skb->data_end;
  unsigned int sum = 0;
  if (data + 16 > end) return 0;
  for (int i = 0; i < 4; i++) sum += __builtin_bswap32(((unsigned int *)data)[i]);
  __sync_fetch_and_or(&counter, (int)sum);
  return (int)(sum % 7) - scale((int)sum >> 3);
}

SEC("tc") int cmpxchg_loop(struct __sk_buff *skb) {
  int old = counter;
  while (__sync_val_compare_and_swap(&counter, old, old + 1) != old) old = counter;
  return __sync_lock_test_and_set(&counter, 0);
}

char LICENSE[] SEC("license") = "GPL";
