// LRU pressure on connection tracking: bpf/kpr/nodeport_lru.c is nodeport.c with a 16-entry
// CT map. A stream of new connections must evict old entries (the map never grows past its
// size, nothing fails) while a connection in use keeps its entries intact and its replies
// translated; the NAT entries of evicted connections are left for the host-side sweep.
import { describe, expect, it } from 'vitest';
import { sweepConntrack } from '../../src/kpr/ct-gc.js';
import { TCP_ACK, TCP_SYN } from '../../src/kpr/frames.js';
import { CT_DIR_FORWARD, CT_DIR_SERVICE, CT_F_REMOTE, CT_F_SEEN_REPLY } from '../../src/kpr/layout.js';
import { fromPod, remoteNode, toNodePort, view } from './nodeport-node.js';

const NEW_CONNECTIONS = 60;

async function pressured() {
  const node = await remoteNode('../obj/kpr/nodeport_lru.o');
  const livePort = view(node.send(toNodePort()).data!).sport;
  node.send(fromPod(livePort, { flags: TCP_SYN | TCP_ACK }));
  const fates = [];
  for (let i = 0; i < NEW_CONNECTIONS; i++) {
    node.advance(0.01);
    fates.push(node.send(toNodePort({ sport: 41000 + i })));
    node.send(toNodePort({ flags: TCP_ACK })); // the live connection keeps talking
  }
  return { node, livePort, fates };
}

describe('CT under LRU pressure (16 entries, 61 connections)', () => {
  it('every new connection is forwarded and the map never holds more than its size', async () => {
    const { node, fates } = await pressured();
    expect(node.runner.bed.map('ct4').maxEntries).toBe(16);
    expect(fates.every((f) => f.output === 'eth0')).toBe(true);
    expect(node.ct().length).toBeLessThanOrEqual(16);
    expect(node.ct().length).toBeGreaterThan(2);
  });

  it('old connections are evicted, the connection in use keeps both entries with every field right', async () => {
    const { node } = await pressured();
    const ct = node.ct();
    expect(ct.some((c) => c.key.sport === 41000)).toBe(false); // the oldest new connection is gone
    const live = ct.filter((c) => c.key.sport === 40000);
    expect(live.map((c) => c.key.dir).sort()).toEqual([CT_DIR_SERVICE, CT_DIR_FORWARD]);
    for (const c of live) {
      expect(c.entry).toMatchObject({ backendId: 2, revNatIndex: 1, frontendAddr: '10.0.0.2', frontendPort: 30080, flags: CT_F_REMOTE | CT_F_SEEN_REPLY });
      expect(c.entry.packets).toBe(BigInt(2 + NEW_CONNECTIONS)); // SYN, SYN-ACK, one ACK per round
    }
  });

  it('no surviving entry is corrupted: each one agrees with its key and with the connection it belongs to', async () => {
    const { node } = await pressured();
    for (const { key, entry } of node.ct()) {
      expect(key.saddr).toBe('10.0.0.1');
      if (key.dir === CT_DIR_SERVICE) expect({ daddr: key.daddr, dport: key.dport }).toEqual({ daddr: entry.frontendAddr, dport: entry.frontendPort });
      else expect({ dir: key.dir, daddr: key.daddr, dport: key.dport }).toEqual({ dir: CT_DIR_FORWARD, daddr: '10.244.1.5', dport: 8080 });
      expect(entry.backendId).toBe(2);
      expect(entry.expiresNs).toBeGreaterThan(entry.createdNs);
    }
  });

  it('the live connection is still translated; a reply of an evicted one goes to the stack untouched', async () => {
    const { node, livePort, fates } = await pressured();
    const back = node.send(fromPod(livePort, { flags: TCP_ACK }));
    expect(view(back.data!)).toMatchObject({ src: '10.0.0.2', sport: 30080, dst: '10.0.0.1', dport: 40000 });
    const evictedPort = view(fates[0].data!).sport;
    const orphan = node.send(fromPod(evictedPort, { flags: TCP_SYN | TCP_ACK }));
    expect(orphan.output).toBe('stack');
    expect(view(orphan.data!)).toMatchObject({ dst: '10.0.0.2', dport: evictedPort });
  });

  it('the sweep removes the NAT entries whose connection LRU evicted, and keeps the live ones', async () => {
    const { node, livePort } = await pressured();
    const liveCt = node.ct().length;
    const swept = sweepConntrack({ ct: node.runner.bed.map('ct4'), nat: node.runner.bed.map('snat4') }, node.nowNs());
    expect(swept.expired).toBe(0);
    expect(swept.liveCt).toBe(liveCt);
    const forwardLeft = node.ct().filter((c) => c.key.dir === CT_DIR_FORWARD).length;
    expect(node.nat()).toHaveLength(2 * forwardLeft); // one pair per connection CT still knows
    expect(swept.orphanNat).toBe(2 * (NEW_CONNECTIONS + 1) - 2 * forwardLeft);
    expect(node.nat().some((n) => n.entry.toPort === livePort)).toBe(true);
  });
});
