// A Linux network namespace built from a scenario's environment, for the kernel column of the
// NodePort bench: bpf_fib_lookup in BPF_PROG_TEST_RUN reads the routes and neighbours of the
// caller's namespace (net/bpf/test_run.c runs the skb on that namespace's loopback), so the
// kernel must run where the scenario's world exists. Built the way scripts/kpr-netns.mjs builds
// it (the scenario parity tests' namespace): each device a veth with the same name, ifindex, MAC,
// MTU and addresses and its peer up, the routes, permanent neighbours, IPv4 forwarding on
// (bpf_ipv4_fib_lookup answers BPF_FIB_LKUP_RET_FWD_DISABLED otherwise). Root only.
import { spawnSync } from 'node:child_process';
import type { EnvironmentSpec } from '../../src/env/environment.js';

function run(argv: string[], what: string, input?: string): string {
  const res = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 256 << 20, input });
  if (res.error) throw new Error(`${what}: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`${what}: ${(res.stderr || res.stdout).trim().split('\n').slice(-3).join(' ')}`);
  return res.stdout;
}

export class BenchNetns {
  private constructor(readonly name: string) {}

  static create(env: EnvironmentSpec): BenchNetns {
    const ns = new BenchNetns(`bpfbed-bench-${process.pid}`);
    run(['ip', 'netns', 'add', ns.name], `ip netns add ${ns.name}`);
    try {
      ns.ip('link', 'set', 'lo', 'up');
      let peer = 200;
      for (const d of env.devices ?? []) {
        if (d.name === 'lo') continue;
        const link = ['link', 'add', d.name];
        if (d.ifindex !== undefined) link.push('index', String(d.ifindex));
        ns.ip(...link, 'type', 'veth', 'peer', 'name', `peer${peer}`, 'index', String(peer));
        if (d.mac) ns.ip('link', 'set', d.name, 'address', d.mac);
        if (d.mtu) ns.ip('link', 'set', d.name, 'mtu', String(d.mtu));
        for (const a of d.addrs ?? []) ns.ip('addr', 'add', a, 'dev', d.name, ...(a.includes(':') ? ['nodad'] : []));
        ns.ip('link', 'set', `peer${peer}`, 'up');
        ns.ip('link', 'set', d.name, 'up');
        peer++;
      }
      for (const r of env.routes ?? []) {
        const args = ['route', 'add', r.dst];
        if (r.via) args.push('via', r.via);
        if (r.dev) args.push('dev', r.dev);
        if (r.metric !== undefined) args.push('metric', String(r.metric));
        if (r.table !== undefined) args.push('table', String(r.table));
        ns.ip(...args);
      }
      for (const n of env.neighbours ?? []) {
        if (n.mac) ns.ip('neigh', 'replace', n.ip, 'lladdr', n.mac, 'dev', n.dev, 'nud', 'permanent');
      }
      for (const key of ['net.ipv4.conf.all.forwarding', 'net.ipv4.conf.default.forwarding', 'net.ipv4.conf.lo.forwarding']) {
        run(['ip', 'netns', 'exec', ns.name, 'sysctl', '-qw', `${key}=1`], `sysctl ${key}`);
      }
      return ns;
    } catch (err) {
      ns.close();
      throw err;
    }
  }

  private ip(...args: string[]): void {
    run(['ip', '-n', this.name, ...args], `ip -n ${this.name} ${args.join(' ')}`);
  }

  /** `argv` inside the namespace with `input` on its stdin; returns its stdout. */
  exec(argv: string[], input: string, what: string): string {
    return run(['ip', 'netns', 'exec', this.name, ...argv], what, input);
  }

  close(): void {
    spawnSync('ip', ['netns', 'del', this.name]);
  }
}
