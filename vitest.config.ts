import { defineConfig } from 'vitest/config';

// Two projects: `unit` never needs root; `kernel` compares bpfbed with the running kernel
// (test/kernel/** and every *-kernel.test.ts) and skips itself, saying why, where BPF is not
// available. As root the kernel tests run unless BPFBED_KERNEL=0.
const KERNEL_TESTS = ['test/kernel/**/*.test.ts', 'test/**/*-kernel.test.ts'];
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...KERNEL_TESTS, 'node_modules/**'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'kernel',
          include: KERNEL_TESTS,
          env: { BPFBED_KERNEL: process.env.BPFBED_KERNEL ?? (isRoot ? '1' : '0') },
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // Kernel tests share one kernel (bpffs pins, network namespaces); keep them in order.
          fileParallelism: false,
        },
      },
    ],
  },
});
