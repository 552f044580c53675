// Service (reverse-NAT) and backend ids that stay put across updates. Cilium's IDAllocator
// (pkg/service/id.go) hands out ids from a moving cursor that wraps at the maximum, so an id
// freed by a deleted frontend or backend is not handed out again at once: connection-tracking
// entries still naming the old id keep missing instead of hitting a stranger.

export class IdAllocator {
  private readonly byKey = new Map<string, number>();
  private readonly used = new Set<number>();
  private next: number;

  /** Ids are `first..max`; 0 is never used (the datapath reads backend_id 0 as "none"). */
  constructor(
    private readonly what: string,
    private readonly first: number,
    private readonly max: number,
  ) {
    this.next = first;
  }

  /** The id of `key`, allocating one the first time. */
  acquire(key: string): number {
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    const span = this.max - this.first + 1;
    for (let tries = 0; tries < span; tries++) {
      const id = this.next;
      this.next = id >= this.max ? this.first : id + 1;
      if (this.used.has(id)) continue;
      this.byKey.set(key, id);
      this.used.add(id);
      return id;
    }
    throw new RangeError(`no free ${this.what} id: all ${span} ids (${this.first}..${this.max}) are in use`);
  }

  peek(key: string): number | undefined {
    return this.byKey.get(key);
  }

  /** Frees the id of every key not in `keep`. */
  retainOnly(keep: ReadonlySet<string>): void {
    for (const [key, id] of this.byKey) {
      if (keep.has(key)) continue;
      this.byKey.delete(key);
      this.used.delete(id);
    }
  }
}

/**
 * The two id spaces of the load-balancer maps. Service ids key lb4/6_reverse_nat and fill
 * rev_nat_index (a __u16: 1..65535, Cilium's FirstFreeServiceID..MaxSetOfServiceID); backend
 * ids key lb4/6_backends (__u32, from 1: Cilium's FirstFreeBackendID, "the datapath assumes
 * backend_id cannot be 0"). Both spaces are shared by IPv4 and IPv6, as in Cilium.
 */
export class LbIds {
  readonly services = new IdAllocator('service (rev_nat_index)', 1, 0xffff);
  readonly backends = new IdAllocator('backend', 1, 0xffffffff);
}
