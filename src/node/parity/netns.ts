// A network namespace built from a scenario's environment, so that kernel helpers that read the
// network (bpf_fib_lookup's routes and neighbours) see the world bpfbed emulates
// (scripts/kpr-netns.mjs does the same for one command): each device becomes a veth with the
// same name, ifindex, MAC, MTU and addresses (its peer is up, so routes through it are usable),
// the routes and permanent neighbour entries are added, IPv4 and IPv6 forwarding are on
// (bpf_ipv4_fib_lookup and bpf_ipv6_fib_lookup answer BPF_FIB_LKUP_RET_FWD_DISABLED otherwise,
// net/core/filter.c; the IPv6 one checks the input device's idev->cnf.forwarding, the loopback
// of BPF_PROG_TEST_RUN, which net.ipv6.conf.all.forwarding sets on every device:
// net/ipv6/addrconf.c addrconf_fixup_forwarding).
import type { EnvironmentSpec } from '../../env/environment.js';
import { must, run, type Workspace } from './workspace.js';

/** Whether the environment has anything a namespace must reproduce (routes, neighbours). */
export function needsNetns(env: EnvironmentSpec | undefined): boolean {
  return (env?.routes?.length ?? 0) > 0 || (env?.neighbours?.length ?? 0) > 0;
}

/** Creates the namespace (named under the workspace's prefix) and returns its name. */
export function buildNetns(ws: Workspace, env: EnvironmentSpec): string {
  const ns = ws.addNetns();
  const ip = (...args: string[]) => must('ip', ['-n', ns, ...args], `ip ${args.slice(0, 4).join(' ')} (namespace of the scenario)`);
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
  for (const n of env.neighbours ?? []) {
    if (n.mac) ip('neigh', 'replace', n.ip, 'lladdr', n.mac, 'dev', n.dev, 'nud', 'permanent');
  }
  const sysctls = ['net.ipv4.conf.all.forwarding', 'net.ipv4.conf.default.forwarding', 'net.ipv4.conf.lo.forwarding', 'net.ipv6.conf.all.forwarding', 'net.ipv6.conf.default.forwarding'];
  for (const key of sysctls) {
    run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `${key}=1`]);
  }
  return ns;
}
