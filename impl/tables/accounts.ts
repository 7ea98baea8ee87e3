/**
 * The account table: per account id its parent, its place among its
 * parent's children (first child / next / previous sibling, for destroy),
 * its frame and object quotas and charges, and a pending yield request; a
 * bitmap of free ids gives the lowest unused one. Quotas are doubles: the
 * configuration allows amounts up to 2^53.
 */
import { LowestFreeSet } from "../bitmap.js";

export class AccountTable {
  readonly parent: Int32Array;
  readonly firstChild: Int32Array;
  readonly nextSib: Int32Array;
  readonly prevSib: Int32Array;
  readonly frameQuota: Float64Array;
  readonly framesCharged: Float64Array;
  readonly objQuota: Float64Array;
  readonly objCharged: Float64Array;
  readonly yieldRequest: Float64Array;
  /** frames asked of the parent and not yet answered */
  readonly requested: Float64Array;
  readonly free: LowestFreeSet;

  constructor(accounts: number) {
    this.parent = new Int32Array(accounts).fill(-1);
    this.firstChild = new Int32Array(accounts).fill(-1);
    this.nextSib = new Int32Array(accounts).fill(-1);
    this.prevSib = new Int32Array(accounts).fill(-1);
    this.frameQuota = new Float64Array(accounts);
    this.framesCharged = new Float64Array(accounts);
    this.objQuota = new Float64Array(accounts);
    this.objCharged = new Float64Array(accounts);
    this.yieldRequest = new Float64Array(accounts);
    this.requested = new Float64Array(accounts);
    this.free = new LowestFreeSet(accounts, true);
  }

  unusedFrames(a: number): number {
    return this.frameQuota[a]! - this.framesCharged[a]!;
  }

  /** Takes id out of the free set as a new child of p, with the given quotas and nothing charged. */
  create(id: number, p: number, frames: number, objects: number): void {
    this.free.delete(id);
    this.parent[id] = p;
    this.frameQuota[id] = frames;
    this.framesCharged[id] = 0;
    this.objQuota[id] = objects;
    this.objCharged[id] = 0;
    this.firstChild[id] = -1;
    this.prevSib[id] = -1;
    const first = this.firstChild[p]!;
    this.nextSib[id] = first;
    // Stryker disable next-line ConditionalExpression: a typed array ignores a write at index -1, which is all the guard keeps out
    if (first !== -1) this.prevSib[first] = id;
    this.firstChild[p] = id;
  }

  /** Takes a out of its parent's child list. */
  unlink(a: number): void {
    const p = this.parent[a]!;
    const prev = this.prevSib[a]!;
    const next = this.nextSib[a]!;
    if (prev !== -1) this.nextSib[prev] = next;
    else this.firstChild[p] = next;
    // Stryker disable next-line ConditionalExpression: a typed array ignores a write at index -1, which is all the guard keeps out
    if (next !== -1) this.prevSib[next] = prev;
  }

  /** Clears every field of x and returns its id to the free set. */
  release(x: number): void {
    this.parent[x] = -1;
    this.firstChild[x] = -1;
    this.nextSib[x] = -1;
    this.prevSib[x] = -1;
    this.frameQuota[x] = 0;
    this.framesCharged[x] = 0;
    this.objQuota[x] = 0;
    this.objCharged[x] = 0;
    this.yieldRequest[x] = 0;
    this.requested[x] = 0;
    this.free.add(x);
  }
}
