// Running a socket scenario in bpfbed: the scenario's cgroup programs attached to an emulated
// host (src/sockets SocketHost), its calls made on emulated sockets, and what the application
// saw at each call checked against the expectations. The kernel runner
// (src/node/parity/sockets-kernel.ts) makes the same calls on real sockets and reports what it
// saw in the same shape (`SocketSeen`), so the two compare call by call. Browser-safe.
import type { CtxRunner } from '../ctx/runner.js';
import { prepareScenario, type FileReader } from '../run/scenario-run.js';
import { formatEndpoint, SocketHost, type EmulatedSocket, type Endpoint } from '../sockets/socket-host.js';
import { backendsFor, normalizeEndpoint, type SocketFacts } from './parity.js';
import type { ParityRule, Scenario, SocketCall, SocketCallExpectation } from './types.js';

/** What the application saw at one call: the same fields as its expectation. */
export type SocketSeen = SocketCallExpectation;

export interface SocketCallReport {
  index: number;
  socket: string;
  /** The call as text: "connect 10.96.0.20:80". */
  call: string;
  seen: SocketSeen;
  /** How the seen values differ from the call's expectation. */
  mismatches: string[];
}

export interface SocketRunReport {
  object: string;
  description?: string;
  calls: SocketCallReport[];
  sockets: SocketFacts[];
  mismatches: string[];
  ok: boolean;
}

export interface SocketRunResult {
  report: SocketRunReport;
  runner: CtxRunner;
}

/** include/uapi/asm-generic/errno-base.h and errno.h: the errnos socket calls here return. */
const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM',
  11: 'EAGAIN',
  13: 'EACCES',
  22: 'EINVAL',
  89: 'EDESTADDRREQ',
  101: 'ENETUNREACH',
  106: 'EISCONN',
  107: 'ENOTCONN',
  111: 'ECONNREFUSED',
  113: 'EHOSTUNREACH',
};
export const errnoName = (errno: number): string => ERRNO_NAMES[Math.abs(errno)] ?? `errno ${Math.abs(errno)}`;

/** The call as one line of text (reports, test names). */
export function describeCall(call: SocketCall): string {
  if (call.open) return `open ${call.open}`;
  if (call.connect) return `connect ${call.connect}`;
  if (call.sendmsg) return `sendmsg ${call.sendmsg}`;
  if (call.send) return 'send';
  if (call.recvmsg) return 'recvmsg';
  return 'getpeername';
}

/** Where a call's traffic is addressed: its own address, or for send the socket's connect target. */
export function callTarget(calls: readonly SocketCall[], index: number): string | undefined {
  const call = calls[index];
  if (call.connect) return call.connect;
  if (call.sendmsg) return call.sendmsg;
  if (call.send) {
    for (let i = index - 1; i >= 0; i--) if (calls[i].socket === call.socket && calls[i].connect) return calls[i].connect;
  }
  return undefined;
}

/**
 * How `seen` differs from `want` (only the fields `want` names). `reached` of a call to a service
 * a `one-of-backends` rule covers is checked as membership in its backends.
 */
export function compareSeen(rules: readonly ParityRule[] | undefined, target: string | undefined, want: SocketSeen, seen: SocketSeen): string[] {
  const problems: string[] = [];
  for (const field of ['error', 'reached', 'peer', 'from'] as const) {
    if (want[field] === undefined) continue;
    const got = seen[field];
    if (field === 'reached' && target !== undefined && got !== undefined) {
      const backends = backendsFor(rules, target);
      if (backends) {
        if (!backends.includes(normalizeEndpoint(got))) problems.push(`reached ${got}, not one of the backends of ${target} (${backends.join(', ')})`);
        continue;
      }
    }
    const same = field === 'error' ? got === want[field] : got !== undefined && normalizeEndpoint(got) === normalizeEndpoint(want[field]!);
    if (!same) problems.push(`${field}: expected ${want[field]}, got ${got ?? (seen.error ? `error ${seen.error}` : 'nothing')}`);
  }
  // an unexpected failure is a mismatch even where the expectation only names other fields
  if (want.error === undefined && seen.error !== undefined && Object.keys(want).length > 0) {
    if (!problems.some((p) => p.includes(seen.error!))) problems.push(`failed with ${seen.error}`);
  }
  return problems;
}

/** "10.0.0.1:80" or "[fd00::1]:80" as address and port. */
export function splitEndpoint(text: string): { addr: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new Error(`'${text}' is not an address:port`);
  return { addr: m[1], port: Number(m[2]) };
}

const isLoopback = (addr: string) => addr.startsWith('127.') || addr === '::1';

/** Runs the scenario's socket calls on bpfbed's emulated sockets. */
export async function runSocketScenario(scenario: Scenario, read: FileReader): Promise<SocketRunResult> {
  if (!scenario.sockets) throw new Error(`${scenario.object}: not a socket scenario (no sockets:)`);
  const runner = await prepareScenario(scenario, read);
  const host = new SocketHost(runner, scenario.programs.map((p) => p.program));
  const servers = (scenario.sockets.servers ?? []).map((s) => ({ protocol: s.tcp ? ('tcp' as const) : ('udp' as const), at: normalizeEndpoint(s.tcp ?? s.udp!) }));
  const serverAt = (e: Endpoint, protocol: 'tcp' | 'udp') => servers.find((s) => s.protocol === protocol && s.at === normalizeEndpoint(formatEndpoint(e)));
  const sockets = new Map<string, EmulatedSocket>();
  const facts = new Map<string, SocketFacts>();
  const calls: SocketCallReport[] = [];
  const encoder = new TextEncoder();

  scenario.sockets.calls.forEach((call, index) => {
    const seen: SocketSeen = {};
    if (call.open) {
      const s = host.socket(call.open.startsWith('tcp') ? 'tcp' : 'udp', call.open.endsWith('6') ? 6 : 4);
      sockets.set(call.socket, s);
      facts.set(call.socket, { name: call.socket, cookie: s.cookie });
    } else {
      const s = sockets.get(call.socket)!;
      const fact = facts.get(call.socket)!;
      const reach = (to: Endpoint, protocol: 'tcp' | 'udp'): boolean => {
        const server = serverAt(to, protocol);
        if (!server) return false;
        seen.reached = server.at;
        fact.reached ??= splitEndpoint(server.at);
        return true;
      };
      if (call.connect) {
        const r = s.connect(call.connect);
        if (r.errno) seen.error = errnoName(r.errno);
        else if (s.protocol === 'tcp' && !reach(r.value!, 'tcp')) {
          // Nothing listens there: a local address refuses (tcp_v4_send_reset answers the SYN), any
          // other is unreachable from the runner's namespace, which has no route but its loopback.
          const local = isLoopback(r.value!.addr) || host.isLocalAddress(r.value!.addr) || servers.some((x) => x.at.startsWith(`${r.value!.addr}:`));
          seen.error = local ? 'ECONNREFUSED' : 'ENETUNREACH';
          s.peer = undefined;
        }
      } else if (call.sendmsg || call.send) {
        const r = s.sendmsg(encoder.encode(call.payload ?? 'ping'), call.sendmsg);
        if (r.errno) seen.error = errnoName(r.errno);
        else if (reach(r.value!.to, 'udp')) {
          // the echo server answers from the address the datagram reached, as the socket's family
          // shows it (an IPv4 server seen by an IPv6 socket is ::ffff:a.b.c.d)
          const to = r.value!.to;
          const from = s.family === 6 && !to.addr.includes(':') ? { addr: `::ffff:${to.addr}`, port: to.port } : to;
          s.deliver(formatEndpoint(from), r.value!.data);
        }
      } else if (call.recvmsg) {
        const r = s.recvmsg();
        if (r.errno) seen.error = errnoName(r.errno);
        else seen.from = formatEndpoint(r.value!.from);
      } else if (call.getpeername) {
        const r = s.getpeername();
        if (r.errno) seen.error = errnoName(r.errno);
        else seen.peer = formatEndpoint(r.value!);
      }
    }
    const mismatches = call.expect ? compareSeen(scenario.parity, callTarget(scenario.sockets!.calls, index), call.expect, seen) : [];
    calls.push({ index, socket: call.socket, call: describeCall(call), seen, mismatches });
  });
  const mismatches = calls.flatMap((c) => c.mismatches.map((m) => `call ${c.index + 1} (${c.socket}: ${c.call}): ${m}`));
  return {
    report: { object: scenario.object, description: scenario.description, calls, sockets: [...facts.values()], mismatches, ok: mismatches.length === 0 },
    runner,
  };
}
