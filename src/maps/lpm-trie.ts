// LPM_TRIE (kernel/bpf/lpm_trie.c): the kernel's path-compressed binary trie, node for node, so
// that lookups, updates, deletes and get_next_key (post-order: more specific prefixes before the
// prefixes that contain them) behave as there.
//
// Key: struct bpf_lpm_trie_key_u8 { __u32 prefixlen; __u8 data[]; } with the data in network
// order; a lookup key normally carries the full prefix length. Node structure lives in typed
// arrays; values live in VM memory (one slot per node that carries a value).

import { SlotArena } from './arena.js';
import { MapBase, MapDefinitionError, type MapContext } from './base.js';
import { readU32 } from './bytes.js';
import { EEXIST, EINVAL, ENOENT, ENOSPC, EPERM } from './errno.js';
import { copyOf, restoreInto, type MapState } from './state.js';
import type { MapDefinition } from './types.js';
import { BPF_EXIST, BPF_F_NO_PREALLOC, BPF_F_RDONLY, BPF_F_WRONLY_PROG, BPF_NOEXIST } from './uapi.js';

const LPM_DATA_SIZE_MAX = 256;
const LPM_KEY_SIZE_MIN = 4 + 1;
const LPM_KEY_SIZE_MAX = 4 + LPM_DATA_SIZE_MAX;
/** LPM_TREE_NODE_FLAG_IM: an intermediate node, carrying no value. */
const FLAG_IM = 1;
const NONE = -1;

export class LpmTrieMap extends MapBase {
  readonly dataSize: number;
  readonly maxPrefixlen: number;
  private root = NONE;
  /** trie->n_entries: nodes that carry a value. */
  nEntries = 0;
  private readonly child0: Int32Array;
  private readonly child1: Int32Array;
  private readonly prefixlen: Uint32Array;
  private readonly nodeFlags: Uint8Array;
  private readonly valueSlot: Int32Array;
  private readonly data: Uint8Array;
  private readonly freeNodes: number[] = [];
  private nextFresh = 0;
  private readonly values: SlotArena;
  /** Scratch for trie_get_next_key's node stack. */
  private readonly stack: Int32Array;

  constructor(def: MapDefinition, ctx: MapContext) {
    super(def, ctx);
    // trie_alloc
    if (def.maxEntries === 0 || !(def.flags & BPF_F_NO_PREALLOC) || def.keySize < LPM_KEY_SIZE_MIN || def.keySize > LPM_KEY_SIZE_MAX || def.valueSize < 1) {
      throw new MapDefinitionError(
        def,
        `an LPM trie needs BPF_F_NO_PREALLOC, key_size ${LPM_KEY_SIZE_MIN}..${LPM_KEY_SIZE_MAX}, value_size > 0 and max_entries > 0 (got flags ${def.flags}, ${def.keySize}, ${def.valueSize}, ${def.maxEntries})`,
      );
    }
    this.dataSize = def.keySize - 4;
    this.maxPrefixlen = this.dataSize * 8;
    // An intermediate node has two children, so there are fewer of them than entries: 2x bounds all
    // nodes, and all value slots (a deleted entry with two children keeps its node, as an
    // intermediate, and its memory).
    const nodes = 2 * def.maxEntries;
    this.child0 = new Int32Array(nodes).fill(NONE);
    this.child1 = new Int32Array(nodes).fill(NONE);
    this.prefixlen = new Uint32Array(nodes);
    this.nodeFlags = new Uint8Array(nodes);
    this.valueSlot = new Int32Array(nodes).fill(NONE);
    this.data = new Uint8Array(nodes * this.dataSize);
    this.stack = new Int32Array(this.maxPrefixlen + 2);
    this.values = new SlotArena(ctx.mem, this.regionName, Math.max(8, (def.valueSize + 7) & ~7), nodes, false, {
      visible: true,
      read: !(def.flags & BPF_F_WRONLY_PROG),
      write: !this.progReadOnly,
    });
  }

  // ---- nodes ----

  private allocNode(): number {
    const n = this.freeNodes.length ? this.freeNodes.pop()! : this.nextFresh++;
    this.child0[n] = NONE;
    this.child1[n] = NONE;
    this.nodeFlags[n] = 0;
    this.valueSlot[n] = NONE;
    return n;
  }

  private freeNode(n: number): void {
    if (this.valueSlot[n] !== NONE) this.values.freeSlot(this.valueSlot[n]);
    this.valueSlot[n] = NONE;
    this.freeNodes.push(n);
  }

  private child(n: number, bit: number): number {
    return bit ? this.child1[n] : this.child0[n];
  }

  private setChild(n: number, bit: number, c: number): void {
    if (bit) this.child1[n] = c;
    else this.child0[n] = c;
  }

  /** extract_bit: bit `index` of the data, most significant bit of byte 0 first. */
  private static extractBit(buf: Uint8Array, off: number, index: number): number {
    return (buf[off + (index >>> 3)] >>> (7 - (index & 7))) & 1;
  }

  /** longest_prefix_match: bits node and key share, up to the shorter of their prefix lengths. */
  private match(node: number, kb: Uint8Array, ko: number, keyPrefixlen: number): number {
    const limit = Math.min(this.prefixlen[node], keyPrefixlen);
    const nd = node * this.dataSize;
    let prefixlen = 0;
    for (let i = 0; i < this.dataSize; i++) {
      const x = this.data[nd + i] ^ kb[ko + 4 + i];
      const b = x === 0 ? 8 : Math.clz32(x) - 24;
      prefixlen += b;
      if (prefixlen >= limit) return limit;
      if (b < 8) break;
    }
    return prefixlen;
  }

  // ---- operations (kernel function names) ----

  /** trie_lookup_elem: the value of the longest prefix that matches the key, or -1. */
  private lookupNode(kb: Uint8Array, ko: number): number {
    const keyPrefixlen = readU32(kb, ko);
    let found = NONE;
    let node = this.root;
    while (node !== NONE) {
      const matchlen = this.match(node, kb, ko, keyPrefixlen);
      if (matchlen === this.maxPrefixlen) {
        found = node;
        break;
      }
      if (matchlen < this.prefixlen[node]) break;
      if (!(this.nodeFlags[node] & FLAG_IM)) found = node;
      node = this.child(node, LpmTrieMap.extractBit(kb, ko + 4, this.prefixlen[node]));
    }
    return found;
  }

  /** trie_check_add_elem */
  private checkAdd(flags: number): number {
    if (flags === BPF_EXIST) return -ENOENT;
    if (this.nEntries === this.maxEntries) return -ENOSPC;
    this.nEntries++;
    return 0;
  }

  /** trie_update_elem */
  private updateElem(kb: Uint8Array, ko: number, vb: Uint8Array, vo: number, flags: number): number {
    if (flags > BPF_EXIST) return -EINVAL;
    const keyPrefixlen = readU32(kb, ko);
    if (keyPrefixlen > this.maxPrefixlen) return -EINVAL;
    // lpm_trie_node_alloc for the new node: the full key data (bits past the prefix included).
    const newNode = this.allocNode();
    this.prefixlen[newNode] = keyPrefixlen;
    this.data.set(kb.subarray(ko + 4, ko + 4 + this.dataSize), newNode * this.dataSize);
    const ret = this.attach(newNode, kb, ko, keyPrefixlen, flags);
    if (ret) {
      this.freeNode(newNode);
      return ret;
    }
    const slot = this.values.allocSlot();
    this.valueSlot[newNode] = slot;
    const mem = this.bytes();
    if (vb.length === 0) vb = mem; // the value arena may have grown the memory
    mem.set(vb.subarray(vo, vo + this.valueSize), this.values.offset(slot));
    return 0;
  }

  private attach(newNode: number, kb: Uint8Array, ko: number, keyPrefixlen: number, flags: number): number {
    // Walk down matching as many bits as possible, to an empty slot or a node to replace or split.
    let parent = NONE;
    let parentBit = 0;
    let node = this.root;
    let matchlen = 0;
    while (node !== NONE) {
      matchlen = this.match(node, kb, ko, keyPrefixlen);
      if (this.prefixlen[node] !== matchlen || this.prefixlen[node] === keyPrefixlen) break;
      parent = node;
      parentBit = LpmTrieMap.extractBit(kb, ko + 4, this.prefixlen[node]);
      node = this.child(node, parentBit);
    }
    const setSlot = (n: number): void => {
      if (parent === NONE) this.root = n;
      else this.setChild(parent, parentBit, n);
    };
    if (node === NONE) {
      const ret = this.checkAdd(flags);
      if (ret) return ret;
      setSlot(newNode);
      return 0;
    }
    if (this.prefixlen[node] === matchlen) {
      // The same prefix: replace the node (an entry, or an intermediate node that becomes one).
      if (!(this.nodeFlags[node] & FLAG_IM)) {
        if (flags === BPF_NOEXIST) return -EEXIST;
      } else {
        const ret = this.checkAdd(flags);
        if (ret) return ret;
      }
      this.child0[newNode] = this.child0[node];
      this.child1[newNode] = this.child1[node];
      setSlot(newNode);
      this.freeNode(node);
      return 0;
    }
    const ret = this.checkAdd(flags);
    if (ret) return ret;
    if (matchlen === keyPrefixlen) {
      // The new prefix contains node's: insert it above.
      this.setChild(newNode, LpmTrieMap.extractBit(this.data, node * this.dataSize, matchlen), node);
      setSlot(newNode);
      return 0;
    }
    // They diverge at bit matchlen: an intermediate node with both below it.
    const im = this.allocNode();
    this.prefixlen[im] = matchlen;
    this.nodeFlags[im] = FLAG_IM;
    this.data.copyWithin(im * this.dataSize, node * this.dataSize, (node + 1) * this.dataSize);
    if (LpmTrieMap.extractBit(kb, ko + 4, matchlen)) {
      this.child0[im] = node;
      this.child1[im] = newNode;
    } else {
      this.child0[im] = newNode;
      this.child1[im] = node;
    }
    setSlot(im);
    return 0;
  }

  /** trie_delete_elem: only an exact prefix; intermediate nodes are pruned as the kernel does. */
  private deleteElem(kb: Uint8Array, ko: number): number {
    const keyPrefixlen = readU32(kb, ko);
    if (keyPrefixlen > this.maxPrefixlen) return -EINVAL;
    // trim = the slot pointing at node (parent, bit); trim2 = the slot pointing at parent.
    let parent = NONE;
    let parentBit = 0;
    let grand = NONE;
    let grandBit = 0;
    let node = this.root;
    let matchlen = 0;
    while (node !== NONE) {
      matchlen = this.match(node, kb, ko, keyPrefixlen);
      if (this.prefixlen[node] !== matchlen || this.prefixlen[node] === keyPrefixlen) break;
      grand = parent;
      grandBit = parentBit;
      parent = node;
      parentBit = LpmTrieMap.extractBit(kb, ko + 4, this.prefixlen[node]);
      node = this.child(node, parentBit);
    }
    if (node === NONE || this.prefixlen[node] !== keyPrefixlen || this.prefixlen[node] !== matchlen || this.nodeFlags[node] & FLAG_IM) {
      return -ENOENT;
    }
    this.nEntries--;
    // Two children: the node stays as an intermediate node (its value memory stays allocated).
    if (this.child0[node] !== NONE && this.child1[node] !== NONE) {
      this.nodeFlags[node] |= FLAG_IM;
      return 0;
    }
    const setTrim = (n: number): void => {
      if (parent === NONE) this.root = n;
      else this.setChild(parent, parentBit, n);
    };
    // A leaf under an intermediate parent: drop the parent too and promote the sibling.
    if (parent !== NONE && this.nodeFlags[parent] & FLAG_IM && this.child0[node] === NONE && this.child1[node] === NONE) {
      const sibling = this.child0[parent] === node ? this.child1[parent] : this.child0[parent];
      if (grand === NONE) this.root = sibling;
      else this.setChild(grand, grandBit, sibling);
      this.freeNode(parent);
      this.freeNode(node);
      return 0;
    }
    setTrim(this.child0[node] !== NONE ? this.child0[node] : this.child1[node]);
    this.freeNode(node);
    return 0;
  }

  /** trie_get_next_key: post-order; an unknown key starts at the leftmost entry. */
  private nextKeyNode(kb: Uint8Array | undefined): number {
    let searchRoot = this.root;
    if (searchRoot === NONE) return NONE;
    const keyPrefixlen = kb ? readU32(kb, 0) : 0;
    if (kb && keyPrefixlen <= this.maxPrefixlen) {
      let sp = -1;
      let node = searchRoot;
      let matchlen = 0;
      while (node !== NONE) {
        this.stack[++sp] = node;
        matchlen = this.match(node, kb, 0, keyPrefixlen);
        if (this.prefixlen[node] !== matchlen || this.prefixlen[node] === keyPrefixlen) break;
        node = this.child(node, LpmTrieMap.extractBit(kb, 4, this.prefixlen[node]));
      }
      if (node !== NONE && this.prefixlen[node] === matchlen && !(this.nodeFlags[node] & FLAG_IM)) {
        // The exact node: the next one in post-order.
        node = this.stack[sp];
        for (;;) {
          if (sp <= 0) return NONE;
          const parent = this.stack[sp - 1];
          if (this.child0[parent] === node && this.child1[parent] !== NONE) {
            searchRoot = this.child1[parent];
            break;
          }
          if (!(this.nodeFlags[parent] & FLAG_IM)) return parent;
          node = parent;
          sp--;
        }
      }
    }
    // find_leftmost: the leftmost non-intermediate node under searchRoot.
    let next = NONE;
    let node = searchRoot;
    while (node !== NONE) {
      if (this.nodeFlags[node] & FLAG_IM) {
        node = this.child0[node];
      } else {
        next = node;
        node = this.child0[node];
        if (node === NONE) node = this.child1[next];
      }
    }
    return next;
  }

  // ---- BPF side ----

  bpfLookup(kb: Uint8Array, ko: number): bigint {
    const n = this.lookupNode(kb, ko);
    return n === NONE ? 0n : this.mem.toVirtual(this.values.offset(this.valueSlot[n]));
  }

  bpfUpdate(kb: Uint8Array, ko: number, vb: Uint8Array, vo: number, flags: number): number {
    return this.updateElem(kb, ko, vb, vo, flags);
  }

  bpfDelete(kb: Uint8Array, ko: number): number {
    return this.deleteElem(kb, ko);
  }

  /** The verifier refuses bpf_for_each_map_elem on an LPM trie. */
  forEach(): number {
    return -EINVAL;
  }

  // ---- host side ----

  /** Longest-prefix match, as BPF_MAP_LOOKUP_ELEM does on a trie. */
  lookup(key: Uint8Array): number | undefined {
    this.checkKey(key);
    const n = this.lookupNode(key, 0);
    return n === NONE ? undefined : this.values.offset(this.valueSlot[n]);
  }

  read(key: Uint8Array): Uint8Array | undefined {
    const off = this.lookup(key);
    return off === undefined ? undefined : this.bytes().slice(off, off + this.valueSize);
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    this.checkKey(key);
    this.checkValue(value);
    if (this.frozen || this.flags & BPF_F_RDONLY) return -EPERM;
    return this.updateElem(key, 0, value, 0, flags);
  }

  delete(key: Uint8Array): number {
    this.checkKey(key);
    if (this.frozen || this.flags & BPF_F_RDONLY) return -EPERM;
    return this.deleteElem(key, 0);
  }

  getNextKey(key?: Uint8Array): Uint8Array | undefined {
    if (key !== undefined) this.checkKey(key);
    const n = this.nextKeyNode(key);
    if (n === NONE) return undefined;
    const out = new Uint8Array(this.keySize);
    new DataView(out.buffer).setUint32(0, this.prefixlen[n], true);
    out.set(this.data.subarray(n * this.dataSize, (n + 1) * this.dataSize), 4);
    return out;
  }

  /** Entries: read() would do a longest-prefix match, so take each node's own value. */
  override entries() {
    const out = [];
    let key = this.getNextKey(undefined);
    for (let i = 0; key !== undefined && i <= this.maxEntries; i++) {
      const n = this.nextKeyNodeExact(key);
      const off = this.values.offset(this.valueSlot[n]);
      out.push({ key, value: this.bytes().slice(off, off + this.valueSize) });
      key = this.getNextKey(key);
    }
    return out;
  }

  /** The entry node with exactly this key (prefix length and data). */
  private nextKeyNodeExact(key: Uint8Array): number {
    const plen = readU32(key, 0);
    let node = this.root;
    while (node !== NONE) {
      const m = this.match(node, key, 0, plen);
      if (this.prefixlen[node] !== m || this.prefixlen[node] === plen) break;
      node = this.child(node, LpmTrieMap.extractBit(key, 4, this.prefixlen[node]));
    }
    return node;
  }

  /**
   * Nodes [0, nextFresh) (no node above was ever used), the free node list in order, and the
   * bytes of the value slots that nodes hold; freed value slots are written whole before reuse.
   */
  protected saveBody(): MapState {
    const n = this.nextFresh;
    const used: number[] = [];
    for (let i = 0; i < n; i++) if (this.valueSlot[i] !== NONE) used.push(i);
    const slots = used.map((i) => this.valueSlot[i]);
    return {
      values: this.values.saveState(),
      valueData: this.values.saveSlots(this.bytes(), slots),
      child0: copyOf(this.child0.subarray(0, n)),
      child1: copyOf(this.child1.subarray(0, n)),
      prefixlen: copyOf(this.prefixlen.subarray(0, n)),
      nodeFlags: copyOf(this.nodeFlags.subarray(0, n)),
      valueSlot: copyOf(this.valueSlot.subarray(0, n)),
      data: copyOf(this.data.subarray(0, n * this.dataSize)),
      freeNodes: this.freeNodes.slice(),
      nextFresh: n,
      root: this.root,
      nEntries: this.nEntries,
    };
  }

  protected restoreBody(b: MapState): void {
    const n = b.nextFresh as number;
    if (!Number.isInteger(n) || n < 0 || n > this.child0.length) throw new Error(`map state: ${String(n)} trie nodes, this map has room for ${this.child0.length}`);
    this.values.restoreState(b.values as MapState, () => this.bytes());
    this.child0.fill(NONE);
    this.child1.fill(NONE);
    this.prefixlen.fill(0);
    this.nodeFlags.fill(0);
    this.valueSlot.fill(NONE);
    this.data.fill(0);
    restoreInto('trie nodes', this.child0.subarray(0, n), b.child0);
    restoreInto('trie nodes', this.child1.subarray(0, n), b.child1);
    restoreInto('trie nodes', this.prefixlen.subarray(0, n), b.prefixlen);
    restoreInto('trie nodes', this.nodeFlags.subarray(0, n), b.nodeFlags);
    restoreInto('trie nodes', this.valueSlot.subarray(0, n), b.valueSlot);
    restoreInto('trie node data', this.data.subarray(0, n * this.dataSize), b.data);
    const slots: number[] = [];
    for (let i = 0; i < n; i++) if (this.valueSlot[i] !== NONE) slots.push(this.valueSlot[i]);
    this.values.restoreSlots(this.bytes(), slots, b.valueData);
    this.freeNodes.length = 0;
    this.freeNodes.push(...(b.freeNodes as number[]));
    this.nextFresh = n;
    this.root = b.root as number;
    this.nEntries = b.nEntries as number;
  }

  override destroy(): void {
    this.values.destroy();
  }
}
