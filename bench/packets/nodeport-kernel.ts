// The kernel's column of the NodePort bench: bench/kernel/packetrun.c (libbpf) loads nodeport.o
// in a network namespace built from the scenario's environment (netns.ts: bpf_fib_lookup must
// find the route to node2 and its neighbour entry), writes its maps with the bytes bpfbed holds
// after prepareScenario, then test-runs, back to back in one process:
//   - every new-connection SYN once: each is a connection the kernel has not seen, so every run
//     takes the SYN path;
//   - the flow's SYN once, then its ACK `ackRuns` times: every run is the established path (CT
//     hit, NAT hit), as bpfbed's repeated runs of that ACK.
// Each run is a BPF_PROG_TEST_RUN of its own with repeat 1, on a fresh copy of the frame: one
// test run with a repeat count reruns one skb, which the first run rewrote (DNAT + SNAT), so
// later repeats would see another packet and take another path. Its duration is then one run
// plus one ktime_get_ns() (net/bpf/test_run.c bpf_test_timer_continue), with caches as a syscall
// leaves them: more than a run inside a repeat loop would cost.
// Needs root, ip, a C compiler and libbpf-dev. The namespace goes away in close().
import { buildCTool } from '../../src/node/c-tool.js';
import type { CtxRunner } from '../../src/ctx/runner.js';
import type { EnvironmentSpec } from '../../src/env/environment.js';
import { BenchNetns } from './netns.js';
import { packetRepoRoot } from './workload.js';

const TOOL_SOURCE = 'bench/kernel/packetrun.c';
const TOOL_BINARY = 'build/bench/kernel/packetrun';

export interface NodePortKernelInput {
  objectPath: string;
  program: string;
  environment: EnvironmentSpec;
  /** A runner prepared from the same scenario, before any packet ran: its maps are copied. */
  prepared: CtxRunner;
  syns: readonly Uint8Array[];
  flowSyn: Uint8Array;
  flowAck: Uint8Array;
  /** Test runs of the ACK. */
  ackRuns: number;
}

export interface NodePortKernelResult {
  /** Mean ns of the SYN runs, and their return values (TC_ACT_* numbers) by count. */
  synNs: number;
  synRetvals: Record<number, number>;
  /** The first SYN's packet after the run. */
  firstSynOut: Uint8Array;
  /** Median ns of the ACK's runs, and the ACK's return value and packet after its first run. */
  ackNs: number;
  ackRetval: number;
  ackOut: Uint8Array;
  ackRuns: number;
}

interface PacketLine {
  retval: number;
  out: string;
  min: number;
  median: number;
  mean: number;
  error?: string;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

export function runNodePortInKernel(input: NodePortKernelInput): NodePortKernelResult {
  const binary = buildCTool(packetRepoRoot(), TOOL_SOURCE, TOOL_BINARY, 'packet bench runner');
  const lines: string[] = [];
  for (const map of input.prepared.bed.maps) {
    if (map.name.includes('.')) continue;
    for (const e of map.dump().entries) lines.push(`${map.name} ${hex(e.key)} ${hex(e.value)}`);
  }
  lines.push('packets');
  for (const syn of input.syns) lines.push(`1 ${hex(syn)}`);
  lines.push(`1 ${hex(input.flowSyn)}`);
  lines.push(`${input.ackRuns} ${hex(input.flowAck)}`);
  const netns = BenchNetns.create(input.environment);
  try {
    const text = netns.exec([binary, input.objectPath, input.program], `${lines.join('\n')}\n`, 'packetrun (nodeport.o in the bench namespace)');
    const out = text.trim().split('\n').map((l) => JSON.parse(l) as PacketLine);
    if (out.length === 1 && out[0].error) throw new Error(`packetrun: ${out[0].error}`);
    if (out.length !== input.syns.length + 2) throw new Error(`packetrun: ${out.length} results for ${input.syns.length + 2} packets`);
    const syns = out.slice(0, input.syns.length);
    const synRetvals: Record<number, number> = {};
    let total = 0;
    for (const r of syns) {
      total += r.mean;
      synRetvals[r.retval] = (synRetvals[r.retval] ?? 0) + 1;
    }
    const ack = out[out.length - 1];
    return {
      synNs: total / Math.max(1, syns.length),
      synRetvals,
      firstSynOut: unhex(syns[0]?.out ?? ''),
      ackNs: ack.median,
      ackRetval: ack.retval,
      ackOut: unhex(ack.out),
      ackRuns: input.ackRuns,
    };
  } finally {
    netns.close();
  }
}
