#!/usr/bin/env node
// Runs a command inside a Linux network namespace built from a scenario's environment, so that
// the kernel's helpers that read the network (bpf_fib_lookup's routes and neighbours) see the
// world bpfbed emulates. The namespace is the parity runner's (src/node/parity/netns.ts
// buildNetns says how each device, route and neighbour is made, and why forwarding is on), in a
// Workspace of its own, so it is removed on exit, also on errors and on SIGINT/SIGTERM.
// BPF_PROG_TEST_RUN runs in the caller's namespace (net/bpf/test_run.c: the skb's device is that
// namespace's loopback), so a kernel oracle run inside sees these routes. bpffs is mounted inside
// (ip netns exec gives a fresh /sys). Root only; needs the compiled sources (npm run build).
//
//   node scripts/kpr-netns.mjs SCENARIO -- node scripts/kernel-expect.mjs SCENARIO
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { buildNetns } from '../dist/src/node/parity/netns.js';
import { Workspace } from '../dist/src/node/parity/workspace.js';
import { parseScenario } from '../dist/src/scenario/parse.js';

const sep = process.argv.indexOf('--');
const file = process.argv[2];
if (!file || sep < 0 || sep === process.argv.length - 1) {
  console.error('usage: node scripts/kpr-netns.mjs SCENARIO -- COMMAND [ARGS...]');
  process.exit(2);
}
const command = process.argv.slice(sep + 1);
const env = parseScenario(readFileSync(file, 'utf8'), file).environment ?? {};

let status = 1;
let ws;
try {
  ws = new Workspace();
  const ns = buildNetns(ws, env);
  const quoted = command.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const res = spawnSync('ip', ['netns', 'exec', ns, 'sh', '-c', `mount -t bpf bpf /sys/fs/bpf && exec ${quoted}`], { stdio: 'inherit' });
  status = res.status ?? 1;
} catch (err) {
  console.error(`kpr-netns: ${err.message}`);
} finally {
  ws?.dispose();
}
process.exit(status);
