// bpf/kpr/sock.c in the running kernel (root, BPFBED_KERNEL=1, bpftool, cgroup2, iproute2,
// python3): the same object's programs attached to a fresh cgroup v2, the same map entries
// written byte for byte, and real sockets of a process in that cgroup (in a network namespace
// of its own, where the node and backend addresses sit on its loopback device) must see what the emulated
// sockets of bpfbed see (sock.test.ts).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CtxRunner } from '../../src/ctx/runner.js';
import { formatEndpoint, SocketHost, type Endpoint } from '../../src/sockets/socket-host.js';
import { kernelOracleAvailable } from '../ctx/kernel-oracle.js';
import { EXAMPLE_NODE_ADDRESSES, exampleBackendAddresses, exampleCluster } from './sock-lb-fixture.js';

const OBJ = fileURLToPath(new URL('../../fixtures/obj/kpr/sock.o', import.meta.url));
const CGROUP2 = '/sys/fs/cgroup/unified';
const HOOKS = ['connect4', 'sendmsg4', 'recvmsg4', 'getpeername4', 'connect6', 'sendmsg6', 'recvmsg6', 'getpeername6'] as const;
const progOf = (hook: string) => `sock${hook.slice(-1)}_${hook.slice(0, -1)}`;

const hasCgroup2 = (() => {
  try {
    return readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === CGROUP2 && l.split(' ')[2] === 'cgroup2');
  } catch {
    return false;
  }
})();
const hasTools = spawnSync('ip', ['-V']).status === 0 && spawnSync('python3', ['-V']).status === 0;

/** What the application sees in one case (the same shape from python and from bpfbed). */
type View = Record<string, string>;

const TCP_CASES: [string, string][] = [
  ['tcp4 ClusterIP', '10.96.0.20:80'],
  ['tcp6 ClusterIP', '[fd00:96::20]:80'],
  ['NodePort on 127.0.0.1', '127.0.0.1:30080'],
  ['NodePort on the node address', '10.0.0.7:30080'],
  ['NodePort on ::1', '[::1]:30080'],
  ['NodePort on the node address (v6)', '[fd00::7]:30080'],
  ['tcp4 no backends', '10.96.0.30:80'],
  ['tcp6 v4-mapped ClusterIP', '[::ffff:10.96.0.20]:80'],
  ['NodePort on ::ffff:127.0.0.1', '[::ffff:127.0.0.1]:30080'],
];
const UDP_CASES: [string, string, boolean][] = [
  ['udp4 DNS sendto', '10.96.0.10:53', false],
  ['udp4 DNS connected', '10.96.0.10:53', true],
  ['udp6 DNS sendto', '[fd00:96::10]:53', false],
  ['udp6 DNS connected', '[fd00:96::10]:53', true],
  ['udp6 no backends', '[fd00:96::30]:53', false],
  ['udp6 v4-mapped DNS sendto', '[::ffff:10.96.0.10]:53', false],
];
const SPREAD_TARGET = '10.96.0.40:80';
const SPREAD_SOCKETS = 40;
const AFFINITY_TARGET = '10.96.0.50:80';
const AFFINITY_SOCKETS = 10;

const split = (e: string): [string, number] => {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(e)!;
  return [m[1], Number(m[2])];
};

/** The application, in python: listeners on every backend, then the cases as clients. */
function pythonScript(listen: { tcp: string[]; udp: string[] }): string {
  const tuple = (e: string) => {
    const [a, p] = split(e);
    return `("${a}", ${p})`;
  };
  return `
import errno, json, select, socket, struct
SO_COOKIE = 57
SO_NETNS_COOKIE = 71
def ep(a): return ("[%s]:%d" % (a[0], a[1])) if ":" in a[0] else ("%s:%d" % (a[0], a[1]))
def fam(a): return socket.AF_INET6 if ":" in a[0] else socket.AF_INET
def listener(a, kind):
    s = socket.socket(fam(a), kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(a)
    if kind == socket.SOCK_STREAM: s.listen(64)
    return s
tcp = [listener(a, socket.SOCK_STREAM) for a in [${listen.tcp.map(tuple).join(', ')}]]
udp = [listener(a, socket.SOCK_DGRAM) for a in [${listen.udp.map(tuple).join(', ')}]]
def err(e): return errno.errorcode.get(e.errno, str(e.errno))
def tcp_case(target):
    c = socket.socket(fam(target), socket.SOCK_STREAM)
    try:
        c.connect(target)
    except OSError as e:
        return {"error": err(e)}, c
    r, _, _ = select.select(tcp, [], [], 3)
    conn, _ = r[0].accept()
    view = {"peer": ep(c.getpeername()), "backend": ep(conn.getsockname())}
    conn.close()
    return view, c
def udp_case(target, connected):
    c = socket.socket(fam(target), socket.SOCK_DGRAM)
    view = {}
    try:
        if connected:
            c.connect(target)
            view["peer"] = ep(c.getpeername())
            c.send(b"query")
        else:
            c.sendto(b"query", target)
    except OSError as e:
        return {"error": err(e)}
    r, _, _ = select.select(udp, [], [], 3)
    data, client = r[0].recvfrom(100)
    view["backend"] = ep(r[0].getsockname())
    r[0].sendto(b"answer", client)
    c.settimeout(3)
    data, src = c.recvfrom(100)
    view["from"] = ep(src)
    return view
out = {}
for name, target in json.loads('${JSON.stringify(TCP_CASES.map(([n, t]) => [n, split(t)]))}'):
    out[name], c = tcp_case(tuple(target))
    c.close()
for name, target, connected in json.loads('${JSON.stringify(UDP_CASES.map(([n, t, c]) => [n, split(t), c]))}'):
    out[name] = udp_case(tuple(target), connected)
spread = []
keep = []
for i in range(${SPREAD_SOCKETS}):
    view, c = tcp_case(${tuple(SPREAD_TARGET)})
    cookie = struct.unpack("=Q", c.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8))[0]
    spread.append({"cookie": str(cookie), "backend": view["backend"], "peer": view["peer"]})
    keep.append(c)
out["spread"] = spread
affinity = []
for i in range(${AFFINITY_SOCKETS}):
    view, c = tcp_case(${tuple(AFFINITY_TARGET)})
    affinity.append(view["backend"])
    keep.append(c)
out["affinity"] = affinity
out["netns_cookie"] = str(struct.unpack("=Q", keep[0].getsockopt(socket.SOL_SOCKET, SO_NETNS_COOKIE, 8))[0])
print(json.dumps(out))
`;
}

/** The same cases on bpfbed's emulated sockets: what the application would see. */
async function bpfbedViews(initNetnsCookie = 1): Promise<{ views: Record<string, View>; writes: ReturnType<typeof exampleCluster>['writes']; encodeRevKey: (cookie: bigint, backend: string) => Uint8Array; encodeRevValue: () => Uint8Array }> {
  const runner = await CtxRunner.fromObject(new Uint8Array(readFileSync(OBJ)), {
    name: 'sock.o',
    environment: { initNetnsCookie, devices: [{ name: 'eth0', ifindex: 2, addrs: ['10.0.0.7/24', 'fd00::7/64'] }] },
  });
  const lb = exampleCluster(runner.bed);
  const host = new SocketHost(runner);
  const views: Record<string, View> = {};
  const a = host.socket('tcp');
  a.connect(AFFINITY_TARGET);
  views.affinity = { backend: formatEndpoint(a.peer!) };
  const fmt = (e: Endpoint) => formatEndpoint(e);
  // The backend as its (IPv4) listener sees itself: a v4-mapped peer is an IPv4 one.
  const backendOf = (e: Endpoint) => formatEndpoint(e).replace(/^\[::ffff:([\d.]+)\]/, '$1');
  const errName = (errno: number) => (errno === -113 ? 'EHOSTUNREACH' : errno === -1 ? 'EPERM' : `errno ${-errno}`);
  for (const [name, target] of TCP_CASES) {
    const s = host.socket('tcp', target.startsWith('[') ? 6 : 4);
    const c = s.connect(target);
    views[name] = c.errno ? { error: errName(c.errno) } : { peer: fmt(s.getpeername().value!), backend: backendOf(s.peer!) };
  }
  for (const [name, target, connected] of UDP_CASES) {
    const s = host.socket('udp', target.startsWith('[') ? 6 : 4);
    const view: View = {};
    let to: Endpoint;
    if (connected) {
      const c = s.connect(target);
      if (c.errno) {
        views[name] = { error: errName(c.errno) };
        continue;
      }
      view.peer = fmt(s.getpeername().value!);
      to = s.sendmsg(new Uint8Array(5)).value!.to;
    } else {
      const sent = s.sendmsg(new Uint8Array(5), target);
      if (sent.errno) {
        views[name] = { error: errName(sent.errno) };
        continue;
      }
      to = sent.value!.to;
    }
    view.backend = backendOf(to);
    s.deliver(fmt(to), new Uint8Array(6));
    view.from = fmt(s.recvmsg().value!.from);
    views[name] = view;
  }
  const rev = runner.bed.typedMap('lb4_reverse_sk');
  const [vip, vport] = split(SPREAD_TARGET);
  return {
    views,
    writes: lb.writes,
    encodeRevKey: (cookie, backend) => rev.encodeKey({ cookie, address: split(backend)[0], port: split(backend)[1] }),
    encodeRevValue: () => rev.encodeValue({ address: vip, port: vport, rev_nat_index: 9 }),
  };
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0'));
const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' });
function must(cmd: string, args: string[]): string {
  const r = run(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

const avail = kernelOracleAvailable();
const skipWhy = !avail.ok ? avail.why : !hasCgroup2 ? `no cgroup2 at ${CGROUP2}` : !hasTools ? 'ip (iproute2) or python3 missing' : '';
describe.skipIf(skipWhy !== '')(`bpf/kpr/sock.c in the running kernel${skipWhy ? ` (skipped: ${skipWhy})` : ''}`, () => {
  it('loads every program (bpftool prog loadall)', () => {
    const pin = `/sys/fs/bpf/bpfbed-kpr-sock-load-${process.pid}`;
    try {
      const r = run('bpftool', ['prog', 'loadall', OBJ, pin]);
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
    } finally {
      rmSync(pin, { recursive: true, force: true });
    }
  });

  it('real sockets in a cgroup with the programs see what bpfbed predicts: targets, getpeername, recvfrom sources, errors', async () => {
    const tag = `bpfbed-sock-${process.pid}`;
    const cg = `${CGROUP2}/${tag}`;
    const pin = `/sys/fs/bpf/${tag}`;
    const maps = `/sys/fs/bpf/${tag}-maps`;
    const tmp = mkdtempSync(join(tmpdir(), 'bpfbed-sock-'));
    const attached: string[] = [];
    let netns = false;
    try {
      const predicted = await bpfbedViews();
      mkdirSync(cg);
      must('bpftool', ['prog', 'loadall', OBJ, pin, 'pinmaps', maps]);
      for (const hook of HOOKS) {
        must('bpftool', ['cgroup', 'attach', cg, hook, 'pinned', `${pin}/${progOf(hook)}`]);
        attached.push(hook);
      }
      for (const w of predicted.writes) must('bpftool', ['map', 'update', 'pinned', `${maps}/${w.map}`, 'key', 'hex', ...hex(w.key), 'value', 'hex', ...hex(w.value)]);

      // The node: a netns of its own whose loopback device holds the node and backend addresses
      // (this kernel has no dummy driver; any address on lo is local, which is all we need).
      must('ip', ['netns', 'add', tag]);
      netns = true;
      const ipn = (...a: string[]) => must('ip', ['-n', tag, ...a]);
      ipn('link', 'set', 'lo', 'up');
      for (const a of [...EXAMPLE_NODE_ADDRESSES, ...exampleBackendAddresses()]) ipn('addr', 'add', a.includes(':') ? `${a}/128` : `${a}/32`, 'dev', 'lo', ...(a.includes(':') ? ['nodad'] : []));

      const backendsOf = (views: Record<string, View>) => Object.values(views).flatMap((v) => (v.backend ? [v.backend] : []));
      const tcpListen = [...new Set([...backendsOf(Object.fromEntries(TCP_CASES.map(([n]) => [n, predicted.views[n]]))), ...[1, 2, 3, 4].map((i) => `10.244.2.${i}:80`)])];
      const udpListen = [...new Set(backendsOf(Object.fromEntries(UDP_CASES.map(([n]) => [n, predicted.views[n]]))))];
      const script = join(tmp, 'app.py');
      writeFileSync(script, pythonScript({ tcp: tcpListen, udp: udpListen }));
      const r = spawnSync('sh', ['-c', `echo $$ > ${cg}/cgroup.procs && exec ip netns exec ${tag} python3 ${script}`], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const kernel = JSON.parse(r.stdout) as Record<string, View> & { spread: { cookie: string; backend: string; peer: string }[]; affinity: string[]; netns_cookie: string };

      for (const [name] of [...TCP_CASES, ...UDP_CASES]) expect(kernel[name], name).toEqual(predicted.views[name]);
      // and what bpfbed predicts is what the design says (not merely whatever both happen to do)
      expect(kernel['tcp4 ClusterIP']).toEqual({ peer: '10.96.0.20:80', backend: '10.244.1.6:8080' });
      expect(kernel['udp6 DNS sendto']).toEqual({ backend: '[fd00:244::5]:5353', from: '[fd00:96::10]:53' });
      expect(kernel['tcp4 no backends']).toEqual({ error: 'EHOSTUNREACH' });

      // The four-backend service: the kernel's random choice is its own, but every socket went
      // to a backend of the service, getpeername showed the VIP, and the kernel's reverse map
      // holds exactly the entry bpfbed would have written for that socket and backend.
      const spread = kernel.spread;
      expect(new Set(spread.map((s) => s.peer))).toEqual(new Set([SPREAD_TARGET]));
      expect(new Set(spread.map((s) => s.backend)).size).toBeGreaterThan(1);
      for (const s of spread) expect(s.backend).toMatch(/^10\.244\.2\.[1-4]:80$/);
      for (const s of spread.slice(0, 5)) {
        const key = predicted.encodeRevKey(BigInt(s.cookie), s.backend);
        const out = JSON.parse(must('bpftool', ['-j', 'map', 'lookup', 'pinned', `${maps}/lb4_reverse_sk`, 'key', 'hex', ...hex(key)])) as { value: string[] };
        expect(out.value.map((v) => Number(v))).toEqual([...predicted.encodeRevValue()]);
      }

      // Session affinity hashes the netns cookie: every socket of the namespace went to one
      // backend, the one bpfbed picks when its namespace has the kernel's cookie.
      expect(new Set(kernel.affinity).size).toBe(1);
      const sameNetns = await bpfbedViews(Number(kernel.netns_cookie));
      expect(kernel.affinity[0]).toBe(sameNetns.views.affinity.backend);
    } finally {
      for (const hook of attached) run('bpftool', ['cgroup', 'detach', cg, hook, 'pinned', `${pin}/${progOf(hook)}`]);
      if (netns) run('ip', ['netns', 'del', tag]);
      rmSync(pin, { recursive: true, force: true });
      rmSync(maps, { recursive: true, force: true });
      rmSync(tmp, { recursive: true, force: true });
      try {
        rmdirSync(cg);
      } catch {
        // the python process may still be leaving it
      }
    }
  });
});
