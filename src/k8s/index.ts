// The Kubernetes control plane of the load-balancer datapath (bpf/kpr/): Services and
// EndpointSlices in, lb4_*/lb6_* map entries out.
export * from './objects.js';
export * from './lb-ids.js';
export * from './lb-maps.js';
export * from './lb-update.js';
export * from './lb-bytes.js';
export * from './scenario.js';
export * from './describe.js';
export * from './maglev.js';
export * from './maglev-maps.js';
