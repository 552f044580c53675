// Doubly linked lists over integer node ids, with the semantics of the kernel's
// include/linux/list.h (list_add = insert after the head, list_move, list_del), kept in typed
// arrays so the LRU emulation allocates nothing per operation. A list head is a node id too
// (a sentinel): ids [0, nodes) are elements, [nodes, nodes + heads) are heads.

export class IntLists {
  readonly prev: Int32Array;
  readonly next: Int32Array;

  constructor(readonly nodes: number, heads: number) {
    this.prev = new Int32Array(nodes + heads);
    this.next = new Int32Array(nodes + heads);
    for (let h = nodes; h < nodes + heads; h++) this.init(h);
    for (let n = 0; n < nodes; n++) {
      this.prev[n] = n;
      this.next[n] = n;
    }
  }

  /** Id of the i-th list head. */
  head(i: number): number {
    return this.nodes + i;
  }

  init(head: number): void {
    this.prev[head] = head;
    this.next[head] = head;
  }

  empty(head: number): boolean {
    return this.next[head] === head;
  }

  /** list_add: insert `node` right after `at` (at the front when `at` is a head). */
  add(node: number, at: number): void {
    const nx = this.next[at];
    this.next[node] = nx;
    this.prev[node] = at;
    this.prev[nx] = node;
    this.next[at] = node;
  }

  /** list_add_tail: insert `node` right before `at` (at the back when `at` is a head). */
  addTail(node: number, at: number): void {
    this.add(node, this.prev[at]);
  }

  del(node: number): void {
    const p = this.prev[node];
    const n = this.next[node];
    this.next[p] = n;
    this.prev[n] = p;
    this.prev[node] = node;
    this.next[node] = node;
  }

  /** list_move: delete, then list_add to `head`. */
  move(node: number, head: number): void {
    this.del(node);
    this.add(node, head);
  }

  moveTail(node: number, head: number): void {
    this.del(node);
    this.addTail(node, head);
  }
}
