import { defineConfig } from 'vitest/config';

// Two projects: `unit` never needs root; `kernel` compares bpfbed with the running kernel and
// skips itself (saying why) where BPF is not available to this user.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/kernel/**', 'node_modules/**'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'kernel',
          include: ['test/kernel/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // Kernel tests share one kernel; keep them in order.
          fileParallelism: false,
        },
      },
    ],
  },
});
