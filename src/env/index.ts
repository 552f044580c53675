// The emulated kernel around a program: namespaces, devices, routes, neighbours, FIB lookup,
// sockets, clock and randomness. Pure data and functions; the helper layer calls these with the
// bytes of the structs a program passes.
export * from './addr.js';
export * from './types.js';
export * from './environment.js';
export * from './clock.js';
export * from './prng.js';
export * from './fib-params.js';
export * from './fib.js';
export * from './sockets.js';
