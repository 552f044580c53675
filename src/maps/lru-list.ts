// The kernel's LRU for LRU_HASH / LRU_PERCPU_HASH maps, kernel/bpf/bpf_lru_list.c, step for step,
// over node ids (the map's element slots) in typed arrays.
//
// Common LRU (the default): one global list set {active, inactive, free} plus, per CPU, a local
// free list and a local pending list. A new element takes a node from its CPU's local free list;
// when that is empty, bpf_lru_list_pop_free_to_local() flushes the CPU's pending nodes into the
// global active/inactive lists, rotates, and moves up to `target_free` nodes to the local free
// list, shrinking (evicting) the inactive list's tail when the global free list runs short. With
// BPF_F_NO_COMMON_LRU every CPU has its own {active, inactive, free} and nothing is shared.
//
// A lookup from a program only sets the node's reference bit (bpf_lru_node_set_ref); the bit is
// acted upon by the next rotation/shrink. So eviction happens in batches and is "second chance",
// not strict LRU, exactly as in the kernel.
//
// Not emulated: the rqspinlock failure paths (pending_free), which need real concurrency.

/** enum bpf_lru_list_type (kernel/bpf/bpf_lru_list.h). */
const T_ACTIVE = 0;
const T_INACTIVE = 1;
const T_FREE = 2;
const T_LOCAL_FREE = 3;
const T_LOCAL_PENDING = 4;

const LOCAL_FREE_TARGET = 128;
const LOCAL_NR_SCANS = LOCAL_FREE_TARGET;
const PERCPU_FREE_TARGET = 4;
const PERCPU_NR_SCANS = PERCPU_FREE_TARGET;

import { IntLists } from './list.js';
import { forEachRun, RunWriter, type MapState } from './state.js';

/** Removes an element from its hash table; false when it is not (or no longer) there. */
export type DelFromHtab = (node: number) => boolean;

/** One struct bpf_lru_list: its three list heads, counts and rotation cursor. */
interface LruList {
  heads: [number, number, number];
  counts: [number, number];
  nextInactiveRotation: number;
}

/** One struct bpf_lru_locallist (common LRU only). */
interface LocalList {
  free: number;
  pending: number;
  nextSteal: number;
}

export class BpfLru {
  private readonly lists: IntLists;
  private readonly type: Uint8Array;
  private readonly ref: Uint8Array;
  private readonly cpuOf: Uint16Array;
  /** Common LRU: one global list; per-CPU LRU: one per CPU. */
  private readonly lruLists: LruList[] = [];
  private readonly local: LocalList[] = [];
  private readonly nrScans: number;
  /** lru->target_free, set by bpf_common_lru_populate(). */
  readonly targetFree: number;

  constructor(
    readonly nodes: number,
    readonly nrCpus: number,
    readonly percpu: boolean,
    private readonly delFromHtab: DelFromHtab,
  ) {
    const nHeads = percpu ? 3 * nrCpus : 3 + 2 * nrCpus;
    this.lists = new IntLists(nodes, nHeads);
    this.type = new Uint8Array(nodes);
    this.ref = new Uint8Array(nodes);
    this.cpuOf = new Uint16Array(nodes);
    let h = 0;
    const newList = (): LruList => {
      const heads: [number, number, number] = [this.lists.head(h), this.lists.head(h + 1), this.lists.head(h + 2)];
      h += 3;
      // bpf_lru_list_init: next_inactive_rotation starts at the inactive head.
      return { heads, counts: [0, 0], nextInactiveRotation: heads[T_INACTIVE] };
    };
    if (percpu) {
      for (let c = 0; c < nrCpus; c++) this.lruLists.push(newList());
      this.nrScans = PERCPU_NR_SCANS;
      this.targetFree = PERCPU_FREE_TARGET;
      this.populatePercpu();
    } else {
      this.lruLists.push(newList());
      for (let c = 0; c < nrCpus; c++) {
        // bpf_lru_locallist_init: next_steal = cpu.
        this.local.push({ free: this.lists.head(h), pending: this.lists.head(h + 1), nextSteal: c });
        h += 2;
      }
      this.nrScans = LOCAL_NR_SCANS;
      // bpf_common_lru_populate: every node on the global free list (list_add: reversed order).
      const free = this.lruLists[0].heads[T_FREE];
      for (let i = 0; i < nodes; i++) {
        this.type[i] = T_FREE;
        this.lists.add(i, free);
      }
      this.targetFree = Math.min(Math.max(Math.floor(Math.floor(nodes / nrCpus) / 2), 1), LOCAL_FREE_TARGET);
    }
  }

  /** bpf_percpu_lru_populate: CPU c owns nodes [c * n / cpus, (c + 1) * n / cpus). */
  private populatePercpu(): void {
    const pcpuEntries = Math.floor(this.nodes / this.nrCpus);
    let i = 0;
    for (let cpu = 0; cpu < this.nrCpus && i < this.nodes; cpu++) {
      const l = this.lruLists[cpu];
      do {
        this.cpuOf[i] = cpu;
        this.type[i] = T_FREE;
        this.lists.add(i, l.heads[T_FREE]);
        i++;
      } while (i < this.nodes && i % pcpuEntries !== 0);
    }
  }

  /** Every list head in a fixed order, with the node type its nodes have. */
  private headsWithTypes(): [number, number][] {
    const out: [number, number][] = [];
    for (const l of this.lruLists) for (const t of [T_ACTIVE, T_INACTIVE, T_FREE]) out.push([l.heads[t], t]);
    for (const loc of this.local) out.push([loc.free, T_LOCAL_FREE], [loc.pending, T_LOCAL_PENDING]);
    return out;
  }

  /**
   * Each list's nodes in order (as runs: an untouched free list is one), the referenced nodes,
   * the counts, rotation cursors and steal positions. A node's type is the list it is on; a
   * common-LRU node's CPU matters only while it is pending, and is that pending list's CPU.
   */
  saveState(): MapState {
    const lists: Uint8Array[] = [];
    const next = this.lists.next;
    for (const [head] of this.headsWithTypes()) {
      const seq = new RunWriter();
      for (let n = next[head], i = 0; n !== head && i < this.nodes; n = next[n], i++) seq.push(n);
      lists.push(seq.bytes());
    }
    const refs = new RunWriter();
    for (let n = 0; n < this.nodes; n++) if (this.ref[n]) refs.push(n);
    return {
      lists,
      refs: refs.bytes(),
      counts: this.lruLists.map((l) => [l.counts[0], l.counts[1], l.nextInactiveRotation]),
      nextSteal: this.local.map((l) => l.nextSteal),
    };
  }

  restoreState(s: MapState): void {
    const heads = this.headsWithTypes();
    const lists = s.lists as unknown[];
    const counts = s.counts as number[][];
    const steal = s.nextSteal as number[];
    if (!Array.isArray(lists) || lists.length !== heads.length || !Array.isArray(counts) || counts.length !== this.lruLists.length || !Array.isArray(steal) || steal.length !== this.local.length) {
      throw new Error('map state: LRU lists of another CPU count or LRU kind');
    }
    const seen = new Uint8Array(this.nodes);
    const total = this.lists.prev.length;
    for (let h = this.nodes; h < total; h++) this.lists.init(h);
    this.ref.fill(0);
    if (!this.percpu) this.cpuOf.fill(0);
    const { prev, next } = this.lists;
    heads.forEach(([head, type], i) => {
      // headsWithTypes: the common LRU's 3 global heads, then (free, pending) per CPU.
      const pendingCpu = type === T_LOCAL_PENDING ? (i - 3) >> 1 : -1;
      let tail = head;
      forEachRun('LRU list', lists[i], this.nodes, (n) => {
        if (!(n >= 0 && n < this.nodes) || seen[n]) throw new Error(`map state: LRU node ${n} is out of range or on two lists`);
        seen[n] = 1;
        this.type[n] = type;
        if (pendingCpu >= 0) this.cpuOf[n] = pendingCpu;
        // list_add_tail, with the tail kept at hand
        next[tail] = n;
        prev[n] = tail;
        tail = n;
      });
      next[tail] = head;
      prev[head] = tail;
    });
    if (seen.indexOf(0) >= 0) throw new Error(`map state: LRU node ${seen.indexOf(0)} is on no list`);
    forEachRun('LRU reference bits', s.refs, this.nodes, (n) => {
      if (!(n >= 0 && n < this.nodes)) throw new Error(`map state: LRU reference bit of node ${n}, out of range`);
      this.ref[n] = 1;
    });
    counts.forEach(([active, inactive, rotation], i) => {
      this.lruLists[i].counts = [active, inactive];
      this.lruLists[i].nextInactiveRotation = rotation;
    });
    steal.forEach((n, i) => (this.local[i].nextSteal = n));
  }

  /** bpf_lru_node_set_ref: what a lookup from a program (or an LRU update of a key) does. */
  setRef(node: number): void {
    if (!this.ref[node]) this.ref[node] = 1;
  }

  isRef(node: number): boolean {
    return this.ref[node] === 1;
  }

  /** bpf_lru_pop_free: a node for a new element (possibly evicting others), -1 if none. */
  popFree(cpu: number): number {
    return this.percpu ? this.percpuPopFree(cpu) : this.commonPopFree(cpu);
  }

  /** bpf_lru_push_free: an element was deleted or replaced; its node becomes free. */
  pushFree(node: number): void {
    if (this.percpu) {
      // bpf_percpu_lru_push_free
      this.nodeMove(this.lruLists[this.cpuOf[node]], node, T_FREE);
      return;
    }
    // bpf_common_lru_push_free
    const t = this.type[node];
    if (t === T_FREE || t === T_LOCAL_FREE) return; // WARN_ON_ONCE in the kernel
    if (t === T_LOCAL_PENDING) {
      const loc = this.local[this.cpuOf[node]];
      this.type[node] = T_LOCAL_FREE;
      this.ref[node] = 0;
      this.lists.del(node);
      this.localFreePush(loc, node);
      return;
    }
    this.nodeMove(this.lruLists[0], node, T_FREE);
  }

  // ---- list moves (bpf_lru_list.c: __bpf_lru_node_move_to_free, _move_in, _move) ----

  private countDec(l: LruList, type: number): void {
    if (type < 2) l.counts[type]--;
  }

  private countInc(l: LruList, type: number): void {
    if (type < 2) l.counts[type]++;
  }

  private moveToFree(l: LruList, node: number, freeHead: number, tgtType: number, tail: boolean): void {
    if (node === l.nextInactiveRotation) l.nextInactiveRotation = this.lists.prev[node];
    this.countDec(l, this.type[node]);
    this.type[node] = tgtType;
    if (tail) this.lists.moveTail(node, freeHead);
    else this.lists.move(node, freeHead);
  }

  private moveIn(l: LruList, node: number, tgtType: number): void {
    this.countInc(l, tgtType);
    this.type[node] = tgtType;
    this.ref[node] = 0;
    this.lists.move(node, l.heads[tgtType]);
  }

  private nodeMove(l: LruList, node: number, tgtType: number): void {
    if (this.type[node] !== tgtType) {
      this.countDec(l, this.type[node]);
      this.countInc(l, tgtType);
      this.type[node] = tgtType;
    }
    this.ref[node] = 0;
    if (node === l.nextInactiveRotation) l.nextInactiveRotation = this.lists.prev[node];
    this.lists.move(node, l.heads[tgtType]);
  }

  // ---- rotation and shrinking ----

  /** __bpf_lru_list_rotate_active: from the tail, referenced nodes back to the head, others to inactive. */
  private rotateActive(l: LruList): void {
    const active = l.heads[T_ACTIVE];
    const first = this.lists.next[active];
    let i = 0;
    let node = this.lists.prev[active];
    while (node !== active) {
      const tmp = this.lists.prev[node];
      this.nodeMove(l, node, this.ref[node] ? T_ACTIVE : T_INACTIVE);
      if (++i === this.nrScans || node === first) break;
      node = tmp;
    }
  }

  /** __bpf_lru_list_rotate_inactive: from the rotation cursor backwards, referenced nodes to active. */
  private rotateInactive(l: LruList): void {
    const inactive = l.heads[T_INACTIVE];
    if (this.lists.empty(inactive)) return;
    let last = this.lists.next[l.nextInactiveRotation];
    if (last === inactive) last = this.lists.next[last];
    let cur = l.nextInactiveRotation;
    let next = inactive;
    let i = 0;
    while (i < this.nrScans) {
      if (cur === inactive) {
        cur = this.lists.prev[cur];
        continue;
      }
      next = this.lists.prev[cur];
      if (this.ref[cur]) this.nodeMove(l, cur, T_ACTIVE);
      if (cur === last) break;
      cur = next;
      i++;
    }
    l.nextInactiveRotation = next;
  }

  /** __bpf_lru_list_rotate */
  private rotate(l: LruList): void {
    if (l.counts[T_INACTIVE] < l.counts[T_ACTIVE]) this.rotateActive(l);
    this.rotateInactive(l);
  }

  /** __bpf_lru_list_shrink_inactive: evict unreferenced nodes from the inactive tail. */
  private shrinkInactive(l: LruList, tgt: number, freeHead: number, tgtType: number, tail: boolean): number {
    const inactive = l.heads[T_INACTIVE];
    let nshrinked = 0;
    let i = 0;
    let node = this.lists.prev[inactive];
    while (node !== inactive) {
      const tmp = this.lists.prev[node];
      if (this.ref[node]) {
        this.nodeMove(l, node, T_ACTIVE);
      } else if (this.delFromHtab(node)) {
        this.moveToFree(l, node, freeHead, tgtType, tail);
        if (++nshrinked === tgt) break;
      }
      if (++i === this.nrScans) break;
      node = tmp;
    }
    return nshrinked;
  }

  /** __bpf_lru_list_shrink: shrink the inactive list, else force-evict one node ignoring ref bits. */
  private shrink(l: LruList, tgt: number, freeHead: number, tgtType: number, tail: boolean): number {
    const n = this.shrinkInactive(l, tgt, freeHead, tgtType, tail);
    if (n) return n;
    const forceHead = this.lists.empty(l.heads[T_INACTIVE]) ? l.heads[T_ACTIVE] : l.heads[T_INACTIVE];
    let node = this.lists.prev[forceHead];
    while (node !== forceHead) {
      const tmp = this.lists.prev[node];
      if (this.delFromHtab(node)) {
        this.moveToFree(l, node, freeHead, tgtType, tail);
        return 1;
      }
      node = tmp;
    }
    return 0;
  }

  // ---- per-CPU LRU (BPF_F_NO_COMMON_LRU) ----

  /** bpf_percpu_lru_pop_free */
  private percpuPopFree(cpu: number): number {
    const l = this.lruLists[cpu];
    this.rotate(l);
    const free = l.heads[T_FREE];
    if (this.lists.empty(free)) this.shrink(l, PERCPU_FREE_TARGET, free, T_FREE, false);
    if (this.lists.empty(free)) return -1;
    const node = this.lists.next[free];
    this.ref[node] = 0;
    this.nodeMove(l, node, T_INACTIVE);
    return node;
  }

  // ---- common LRU ----

  /**
   * The per-CPU free list. The kernel keeps it as an llist filled from a temporary list, so nodes
   * leave it in the order they were harvested: a FIFO here (only which slot is reused depends on it).
   */
  private localFreePush(loc: LocalList, node: number): void {
    this.lists.add(node, loc.free);
  }

  private localFreePop(loc: LocalList): number {
    if (this.lists.empty(loc.free)) return -1;
    const node = this.lists.next[loc.free];
    this.lists.del(node);
    return node;
  }

  /** __local_list_flush: pending nodes go to the global active (referenced) or inactive list. */
  private localFlush(l: LruList, loc: LocalList): void {
    let node = this.lists.prev[loc.pending];
    while (node !== loc.pending) {
      const tmp = this.lists.prev[node];
      this.moveIn(l, node, this.ref[node] ? T_ACTIVE : T_INACTIVE);
      node = tmp;
    }
  }

  /** bpf_lru_list_pop_free_to_local */
  private popFreeToLocal(loc: LocalList): void {
    const l = this.lruLists[0];
    this.localFlush(l, loc);
    this.rotate(l);
    // Harvested nodes keep their order (see localFreePush): append at the tail of the local list.
    const free = l.heads[T_FREE];
    let nfree = 0;
    while (!this.lists.empty(free)) {
      const node = this.lists.next[free];
      this.moveToFree(l, node, loc.free, T_LOCAL_FREE, true);
      if (++nfree === this.targetFree) break;
    }
    if (nfree < this.targetFree) this.shrink(l, this.targetFree - nfree, loc.free, T_LOCAL_FREE, true);
  }

  /** __local_list_add_pending */
  private addPending(loc: LocalList, cpu: number, node: number): void {
    this.cpuOf[node] = cpu;
    this.type[node] = T_LOCAL_PENDING;
    this.ref[node] = 0;
    this.lists.add(node, loc.pending);
  }

  /** __local_list_pop_pending: steal the oldest pending node, unreferenced ones first. */
  private popPending(loc: LocalList): number {
    for (const force of [false, true]) {
      let node = this.lists.prev[loc.pending];
      while (node !== loc.pending) {
        if ((!this.ref[node] || force) && this.delFromHtab(node)) {
          this.lists.del(node);
          return node;
        }
        node = this.lists.prev[node];
      }
    }
    return -1;
  }

  /** bpf_common_lru_pop_free */
  private commonPopFree(cpu: number): number {
    const loc = this.local[cpu];
    let node = this.localFreePop(loc);
    if (node < 0) {
      this.popFreeToLocal(loc);
      node = this.localFreePop(loc);
    }
    if (node >= 0) {
      this.addPending(loc, cpu, node);
      return node;
    }
    // Nothing free here nor globally: steal from the CPUs' local lists, round robin.
    const firstSteal = loc.nextSteal;
    let steal = firstSteal;
    do {
      const victim = this.local[steal];
      node = this.localFreePop(victim);
      if (node < 0) node = this.popPending(victim);
      steal = (steal + 1) % this.nrCpus;
    } while (node < 0 && steal !== firstSteal);
    loc.nextSteal = steal;
    if (node < 0) return -1;
    this.addPending(loc, cpu, node);
    return node;
  }
}
