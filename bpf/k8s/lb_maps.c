// The load-balancer maps of bpf/kpr/lb.h and nothing else, for the control-plane tests
// (test/k8s/): the program only exists so that every map is referenced and kept in the object.
#include "../kpr/lb.h"

SEC("tc")
int touch_lb_maps(struct __sk_buff *skb)
{
	struct lb4_key k4 = {};
	struct lb6_key k6 = {};
	__u32 backend_id = 0;
	__u16 rev_nat_index = 0;

	return (bpf_map_lookup_elem(&lb4_services, &k4) != 0) + (bpf_map_lookup_elem(&lb4_backends, &backend_id) != 0) +
	       (bpf_map_lookup_elem(&lb4_reverse_nat, &rev_nat_index) != 0) + (bpf_map_lookup_elem(&lb6_services, &k6) != 0) +
	       (bpf_map_lookup_elem(&lb6_backends, &backend_id) != 0) + (bpf_map_lookup_elem(&lb6_reverse_nat, &rev_nat_index) != 0);
}

char LICENSE[] SEC("license") = "GPL";
