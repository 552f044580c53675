// One line per packet, in the spirit of tshark's Info column, e.g.
//   10.0.0.1:51234 → 10.96.0.10:80 TCP [SYN] seq=0 win=64240
//   10.0.0.1 → 10.0.0.2 ICMP echo request id=1 seq=1
//   ARP who-has 10.0.0.1 tell 10.0.0.2
//   192.168.1.1:40000 → 192.168.1.2:4789 VXLAN vni=42 [inner: 10.0.0.1:51234 → ... TCP [SYN] ...]
// Sequence numbers are the raw ones (a single packet has no stream to be relative to).

import { type DecodedLayer, type DecodedPacket, depthPrefix } from './fields.js';
import { dnsTypeName } from './dns.js';
import { icmpTypeName, icmpv6TypeName, tcpFlagNames } from './transport.js';

const TITLES: Record<string, string> = { eth: 'Ethernet', sll: 'Linux cooked', ip: 'IPv4', ipv6: 'IPv6', tcp: 'TCP', udp: 'UDP', icmp: 'ICMP', icmpv6: 'ICMPv6', arp: 'ARP', vxlan: 'VXLAN', geneve: 'Geneve', dns: 'DNS' };

function value(layer: DecodedLayer, name: string): number | string | undefined {
  const full = depthPrefix(layer.depth) + name;
  return layer.fields.find((f) => f.name === full)?.value;
}

function num(layer: DecodedLayer, name: string): number {
  const v = value(layer, name);
  return typeof v === 'number' ? v : NaN;
}

function endpoint(address: string, port: number | undefined): string {
  if (port === undefined) return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The summary of the layers from `from` that share its tunnel depth (and, for a tunnel, of
 *  what it carries, in brackets). */
function describe(layers: DecodedLayer[], from: number): string {
  const depth = layers[from]?.depth ?? 0;
  const vlans: number[] = [];
  const badChecksums: string[] = [];
  let linkSrc: string | undefined;
  let linkDst: string | undefined;
  let etherType: number | undefined;
  let src: string | undefined;
  let dst: string | undefined;
  let ports: [number, number] | undefined;
  let what = '';
  let innerFrom = -1;
  let innerLabel = 'inner';
  let i = from;
  for (; i < layers.length && layers[i].depth === depth; i++) {
    const layer = layers[i];
    // A header too short to hold any field is only named (its malformed note says the rest).
    if (layer.fields.length === 0) {
      if (layer.protocol !== 'data') what = TITLES[layer.protocol] ?? layer.protocol;
      continue;
    }
    for (const f of layer.fields) if (f.status === 'bad') badChecksums.push(f.name.slice(depthPrefix(depth).length).replace(/\.checksum$/, ''));
    switch (layer.protocol) {
      case 'eth':
      case 'sll':
        linkSrc = (value(layer, 'eth.src') ?? value(layer, 'sll.src.eth')) as string | undefined;
        linkDst = value(layer, 'eth.dst') as string | undefined;
        etherType = (value(layer, 'eth.type') ?? value(layer, 'sll.etype')) as number | undefined;
        break;
      case 'vlan':
      case 'ieee8021ad':
        vlans.push(num(layer, `${layer.protocol}.id`));
        etherType = num(layer, `${layer.protocol}.etype`);
        break;
      case 'arp': {
        const op = num(layer, 'arp.opcode');
        const target = value(layer, 'arp.dst.proto_ipv4');
        const sender = value(layer, 'arp.src.proto_ipv4');
        if (op === 1 && target !== undefined) what = `ARP who-has ${target} tell ${sender}`;
        else if (op === 2 && sender !== undefined) what = `ARP ${sender} is-at ${value(layer, 'arp.src.hw_mac')}`;
        else what = `ARP opcode ${op}`;
        break;
      }
      case 'ip':
        src = value(layer, 'ip.src') as string | undefined;
        dst = value(layer, 'ip.dst') as string | undefined;
        what = `IPv4 proto ${num(layer, 'ip.proto')}`;
        if (num(layer, 'ip.frag_offset') > 0) what = `IPv4 fragment offset=${num(layer, 'ip.frag_offset') * 8}`;
        break;
      case 'ipv6':
        src = value(layer, 'ipv6.src') as string | undefined;
        dst = value(layer, 'ipv6.dst') as string | undefined;
        what = `IPv6 next header ${num(layer, 'ipv6.nxt')}`;
        break;
      case 'ipv6.fraghdr':
        if (num(layer, 'ipv6.fraghdr.offset') > 0) what = `IPv6 fragment offset=${num(layer, 'ipv6.fraghdr.offset') * 8}`;
        break;
      case 'tcp': {
        ports = [num(layer, 'tcp.srcport'), num(layer, 'tcp.dstport')];
        if (value(layer, 'tcp.flags') === undefined) {
          // The 8 bytes an ICMP error quotes: ports and sequence number only.
          what = value(layer, 'tcp.seq') === undefined ? 'TCP' : `TCP seq=${num(layer, 'tcp.seq')}`;
          break;
        }
        const flags = num(layer, 'tcp.flags');
        const parts = [`TCP [${tcpFlagNames(flags).join(', ')}]`, `seq=${num(layer, 'tcp.seq')}`];
        if (flags & 0x10) parts.push(`ack=${num(layer, 'tcp.ack')}`);
        parts.push(`win=${num(layer, 'tcp.window_size_value')}`);
        const length = num(layer, 'tcp.len');
        if (length > 0) parts.push(`len=${length}`);
        what = parts.join(' ');
        break;
      }
      case 'udp':
        ports = [num(layer, 'udp.srcport'), num(layer, 'udp.dstport')];
        what = `UDP len=${num(layer, 'udp.length') - 8}`;
        break;
      case 'icmp': {
        const type = num(layer, 'icmp.type');
        innerFrom = i + 1;
        innerLabel = 'quoted';
        const name = icmpTypeName(type) ?? `type ${type}`;
        what = `ICMP ${name}`;
        if (value(layer, 'icmp.ident') !== undefined) what += ` id=${num(layer, 'icmp.ident')} seq=${num(layer, 'icmp.seq')}`;
        else what += ` code=${num(layer, 'icmp.code')}`;
        if (value(layer, 'icmp.mtu') !== undefined) what += ` mtu=${num(layer, 'icmp.mtu')}`;
        break;
      }
      case 'icmpv6': {
        const type = num(layer, 'icmpv6.type');
        innerFrom = i + 1;
        innerLabel = 'quoted';
        what = `ICMPv6 ${icmpv6TypeName(type) ?? `type ${type}`}`;
        if (value(layer, 'icmpv6.echo.identifier') !== undefined) {
          what += ` id=${num(layer, 'icmpv6.echo.identifier')} seq=${num(layer, 'icmpv6.echo.sequence_number')}`;
        }
        const target = value(layer, 'icmpv6.nd.ns.target_address') ?? value(layer, 'icmpv6.nd.na.target_address');
        if (target !== undefined) what += ` for ${target}`;
        if (value(layer, 'icmpv6.mtu') !== undefined) what += ` mtu=${num(layer, 'icmpv6.mtu')}`;
        break;
      }
      case 'dns': {
        const response = num(layer, 'dns.flags.response') === 1;
        const name = value(layer, 'dns.qry.name');
        const type = value(layer, 'dns.qry.type');
        what = `DNS ${response ? 'response' : 'query'} 0x${num(layer, 'dns.id').toString(16).padStart(4, '0')}`;
        if (name !== undefined) what += ` ${dnsTypeName(Number(type))} ${name}`;
        break;
      }
      case 'vxlan':
        what = `VXLAN vni=${num(layer, 'vxlan.vni')}`;
        innerFrom = i + 1;
        break;
      case 'geneve':
        what = `Geneve vni=${num(layer, 'geneve.vni')}`;
        innerFrom = i + 1;
        break;
    }
  }
  // IP in IP: the layer after the outer IP header is one level deeper without a UDP tunnel.
  if (innerFrom < 0 && i < layers.length && layers[i].depth === depth + 1) {
    innerFrom = i;
    what = 'IP-in-IP';
  }
  if (!what && etherType !== undefined) what = `ethertype 0x${etherType.toString(16).padStart(4, '0')}`;
  let text: string;
  if (src !== undefined && dst !== undefined) {
    text = `${endpoint(src, ports?.[0])} → ${endpoint(dst, ports?.[1])} ${what}`;
  } else if (what.startsWith('ARP') || linkSrc === undefined) {
    text = what || 'no decodable header';
  } else {
    text = `${linkSrc} → ${linkDst ?? '?'} ${what}`;
  }
  if (vlans.length) text = `[vlan ${vlans.join('.')}] ${text}`;
  if (innerFrom >= 0 && innerFrom < layers.length && layers[innerFrom].depth === depth + 1) {
    text += ` [${innerLabel}: ${describe(layers, innerFrom)}]`;
  }
  for (const bad of badChecksums) text += ` (bad ${bad} checksum)`;
  return text.trim();
}

/** One line for a decoded packet; a malformed packet says where in brackets at the end. */
export function summarizePacket(decoded: DecodedPacket): string {
  const text = decoded.layers.length ? describe(decoded.layers, 0) : 'empty packet';
  return decoded.malformed ? `${text} [malformed: ${decoded.malformed}]` : text;
}
