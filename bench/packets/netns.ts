// A Linux network namespace built from a scenario's environment, for the kernel column of the
// NodePort bench: bpf_fib_lookup in BPF_PROG_TEST_RUN reads the routes and neighbours of the
// caller's namespace (net/bpf/test_run.c runs the skb on that namespace's loopback), so the
// kernel must run where the scenario's world exists. The namespace is the parity runner's
// (src/node/parity/netns.ts: the same one the scenario parity tests use), inside a parity
// Workspace, which removes it on close and on SIGINT/SIGTERM. Root only.
import { spawnSync } from 'node:child_process';
import type { EnvironmentSpec } from '../../src/env/environment.js';
import { buildNetns } from '../../src/node/parity/netns.js';
import { Workspace } from '../../src/node/parity/workspace.js';

export class BenchNetns {
  private constructor(
    private readonly ws: Workspace,
    readonly name: string,
  ) {}

  static create(env: EnvironmentSpec): BenchNetns {
    const ws = new Workspace();
    try {
      return new BenchNetns(ws, buildNetns(ws, env));
    } catch (err) {
      ws.dispose();
      throw err;
    }
  }

  /** `argv` inside the namespace with `input` on its stdin; returns its stdout. */
  exec(argv: string[], input: string, what: string): string {
    // Not Workspace#run: the kernel tool's output for thousands of packets is large and slow.
    const res = spawnSync('ip', ['netns', 'exec', this.name, ...argv], { encoding: 'utf8', maxBuffer: 256 << 20, input });
    if (res.error) throw new Error(`${what}: ${res.error.message}`);
    if (res.status !== 0) throw new Error(`${what}: ${(res.stderr || res.stdout).trim().split('\n').slice(-3).join(' ')}`);
    return res.stdout;
  }

  close(): void {
    this.ws.dispose();
  }
}
