// A plan as lines a person reads (the CLI, `npm start`, the playground):
//   kube-system/kube-dns dns ClusterIP 10.96.0.10:53/UDP [rev NAT 10] -> #2 10.0.1.5:53 (ifindex 3), #8 10.0.2.6:53
import type { LbPlan } from './lb-maps.js';
import { IPPROTO_TCP, IPPROTO_UDP, SVC_FLAG_AFFINITY, SVC_FLAG_LOCAL_SCOPE } from './lb-maps.js';

const protoName = (proto: number) => (proto === IPPROTO_TCP ? 'TCP' : proto === IPPROTO_UDP ? 'UDP' : `proto ${proto}`);
const hostPort = (address: string, port: number) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

/** One line per frontend, in the plan's order. */
export function describePlan(plan: LbPlan): string[] {
  const byId = new Map(plan.backends.map((b) => [b.id, b]));
  return plan.frontends.map((f) => {
    const notes = [`rev NAT ${f.revNatIndex}`];
    if (f.flags & SVC_FLAG_LOCAL_SCOPE) notes.push('local only');
    if (f.flags & SVC_FLAG_AFFINITY) notes.push('ClientIP affinity');
    const backends = f.backendIds.map((id) => {
      const b = byId.get(id);
      if (!b) return `#${id} (missing)`;
      return `#${id} ${hostPort(b.address, b.port)}${b.ifindex ? ` (ifindex ${b.ifindex})` : ''}${b.state === 'terminating' ? ' (terminating)' : ''}`;
    });
    const port = f.portName ? ` ${f.portName}` : '';
    return `${f.service}${port} ${f.kind} ${hostPort(f.address, f.port)}/${protoName(f.proto)} [${notes.join(', ')}] -> ${backends.length ? backends.join(', ') : 'no backends (dropped)'}`;
  });
}
