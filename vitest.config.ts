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
          // As root the oracle is on unless BPFBED_KERNEL=0; otherwise each test's own check says
          // why it cannot run (not root, no BPF, no compiler).
          env: isRoot ? { BPFBED_KERNEL: process.env.BPFBED_KERNEL ?? '1' } : {},
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // Kernel tests share one kernel (bpffs pins, network namespaces); keep them in order.
          fileParallelism: false,
        },
      },
    ],
  },
});
