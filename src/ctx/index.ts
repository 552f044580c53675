// Program contexts: __sk_buff (tc, socket filters), xdp_md, bpf_sock_addr, and a runner.
export * from './access.js';
export * from './packet-buffer.js';
export * from './skb.js';
export * from './xdp.js';
export * from './sock-addr.js';
export * from './socket-filter.js';
export * from './verdicts.js';
export * from './runner.js';
export * from './test-run.js';
export * from './bpf-sock.js';
