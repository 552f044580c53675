// Internet checksum arithmetic and the kernel's checksum helpers, as pure functions over bytes.
export * from './arith.js';
export * from './helpers.js';
export * from './verify.js';
