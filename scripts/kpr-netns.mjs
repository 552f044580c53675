#!/usr/bin/env node
// Runs a command inside a Linux network namespace built from a scenario's environment, so that
// the kernel's helpers that read the network (bpf_fib_lookup's routes and neighbours) see the
// world bpfbed emulates: each device becomes a veth (same name, ifindex, MAC, MTU and
// addresses, IPv6 ones without duplicate address detection so they are usable at once; its peer
// is up so routes through it are usable), the scenario's routes and permanent neighbour entries
// (IPv4 or IPv6: ip picks the family from the address) are added, IPv4 and IPv6 forwarding are on
// (bpf_ipv4_fib_lookup and bpf_ipv6_fib_lookup answer FWD_DISABLED otherwise; the IPv6 one checks
// the input device's idev->cnf.forwarding, here the loopback BPF_PROG_TEST_RUN uses, which
// net.ipv6.conf.all.forwarding sets on every device: net/ipv6/addrconf.c
// addrconf_fixup_forwarding). BPF_PROG_TEST_RUN runs in the caller's namespace (net/bpf/test_run.c: the skb's device is that namespace's loopback), so a kernel oracle run
// inside sees these routes. bpffs is mounted inside (ip netns exec gives a fresh /sys).
// Root only; the namespace is removed on exit, also on errors.
//
//   node scripts/kpr-netns.mjs SCENARIO -- node scripts/kernel-expect.mjs SCENARIO
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseScenario } from '../dist/src/scenario/parse.js';

const sep = process.argv.indexOf('--');
const file = process.argv[2];
if (!file || sep < 0 || sep === process.argv.length - 1) {
  console.error('usage: node scripts/kpr-netns.mjs SCENARIO -- COMMAND [ARGS...]');
  process.exit(2);
}
const command = process.argv.slice(sep + 1);
const env = parseScenario(readFileSync(file, 'utf8'), file).environment ?? {};
const ns = `bpfbed-kpr-${process.pid}`;

function ip(...args) {
  const res = spawnSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`ip -n ${ns} ${args.join(' ')}: ${res.stderr.trim()}`);
}

let status = 1;
spawnSync('ip', ['netns', 'add', ns]);
try {
  ip('link', 'set', 'lo', 'up');
  let peer = 200;
  for (const d of env.devices ?? []) {
    if (d.name === 'lo') continue;
    const link = ['link', 'add', d.name];
    if (d.ifindex !== undefined) link.push('index', String(d.ifindex));
    ip(...link, 'type', 'veth', 'peer', 'name', `peer${peer}`, 'index', String(peer));
    if (d.mac) ip('link', 'set', d.name, 'address', d.mac);
    if (d.mtu) ip('link', 'set', d.name, 'mtu', String(d.mtu));
    for (const a of d.addrs ?? []) ip('addr', 'add', a, 'dev', d.name, ...(a.includes(':') ? ['nodad'] : []));
    ip('link', 'set', `peer${peer}`, 'up');
    ip('link', 'set', d.name, 'up');
    peer++;
  }
  for (const r of env.routes ?? []) {
    const args = ['route', 'add', r.dst];
    if (r.via) args.push('via', r.via);
    if (r.dev) args.push('dev', r.dev);
    if (r.metric !== undefined) args.push('metric', String(r.metric));
    if (r.table !== undefined) args.push('table', String(r.table));
    ip(...args);
  }
  for (const n of env.neighbours ?? []) ip('neigh', 'replace', n.ip, 'lladdr', n.mac, 'dev', n.dev, 'nud', 'permanent');
  for (const key of ['net.ipv4.conf.all.forwarding', 'net.ipv4.conf.default.forwarding', 'net.ipv4.conf.lo.forwarding', 'net.ipv6.conf.all.forwarding', 'net.ipv6.conf.default.forwarding']) {
    spawnSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `${key}=1`]);
  }
  const quoted = command.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const res = spawnSync('ip', ['netns', 'exec', ns, 'sh', '-c', `mount -t bpf bpf /sys/fs/bpf && exec ${quoted}`], { stdio: 'inherit' });
  status = res.status ?? 1;
} catch (err) {
  console.error(`kpr-netns: ${err.message}`);
} finally {
  spawnSync('ip', ['netns', 'del', ns]);
}
process.exit(status);
