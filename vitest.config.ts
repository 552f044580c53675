import { defineConfig } from 'vitest/config';

// Three projects: `unit` never needs root; `kernel` compares bpfbed with the running kernel
// (test/kernel/** and every *-kernel.test.ts) and skips itself, saying why, where BPF is not
// available. As root the kernel tests run unless BPFBED_KERNEL=0. `e2e` drives the built
// playground in headless Chromium and Firefox (test/playground/e2e) and skips itself, saying
// why, where /usr/bin/chromium or /usr/bin/firefox-esr is missing (under CI=true that is a
// failure instead) or BPFBED_E2E=0.
const KERNEL_TESTS = ['test/kernel/**/*.test.ts', 'test/**/*-kernel.test.ts'];
const E2E_TESTS = ['test/playground/e2e/**/*.test.ts'];
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...KERNEL_TESTS, ...E2E_TESTS, 'node_modules/**'],
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
      {
        test: {
          name: 'e2e',
          include: E2E_TESTS,
          // Builds dist/playground when it is missing or older than its sources.
          globalSetup: ['test/playground/e2e/global-setup.ts'],
          // A browser per file, a run of the VM per test: generous, and one file at a time (two
          // Chromiums and two VMs on a 2-core machine make every timing unreliable).
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
