/**
 * The frame table: per physical frame its content word, hard-reference count,
 * epoch (bumped on each new use and each write) and wire count, and two bitmaps that answer "the lowest free frame" and "the
 * lowest frame held only by soft references" in a few word reads. The
 * allocation policy itself (which frame a new user gets) is the spec's, in
 * spec/physmem.ts.
 */
import { LowestFreeSet } from "../bitmap.js";

export class FrameTable {
  readonly content: Int32Array;
  readonly refs: Int32Array;
  /**
   * per frame: its epoch, a 64-bit float, exact to 2^53 bumps. A 32-bit
   * counter would come back to an old value after 2^32 bumps of one frame,
   * and a soft reference recording that value would pass for valid again
   * (docs/decisions.md, "Epochs").
   */
  readonly epoch: Float64Array;
  readonly wired: Int32Array;
  /** frames with no hard reference, not wired, and no valid soft reference */
  readonly free: LowestFreeSet;
  /** frames with no hard reference, not wired, but a valid soft reference: reclaimable */
  readonly softOnly: LowestFreeSet;
  /** number of soft slots whose epoch matches the frame's */
  readonly softLive: Int32Array;

  constructor(frames: number) {
    this.content = new Int32Array(frames);
    this.refs = new Int32Array(frames);
    this.epoch = new Float64Array(frames);
    this.wired = new Int32Array(frames);
    this.free = new LowestFreeSet(frames, true);
    this.softOnly = new LowestFreeSet(frames, false);
    this.softLive = new Int32Array(frames);
  }

  /** Puts frame f into the free or soft-only set as its counts now say. */
  refresh(f: number): void {
    const unused = this.refs[f] === 0 && this.wired[f] === 0;
    const soft = this.softLive[f]! > 0;
    if (unused && !soft) this.free.add(f);
    else this.free.delete(f);
    if (unused && soft) this.softOnly.add(f);
    else this.softOnly.delete(f);
  }

  /** The frame to hand out next (lowest free, else lowest soft-only), or -1. */
  next(): number {
    const f = this.free.lowest();
    return f >= 0 ? f : this.softOnly.lowest();
  }

  /** Gives frame f to a new user: one more reference, new epoch (soft refs go stale). */
  take(f: number, content: number): void {
    this.refs[f]! += 1;
    this.epoch[f]! += 1;
    this.softLive[f] = 0;
    this.content[f] = content;
    this.refresh(f);
  }

  /** Records a write of `value` to frame f: new content, new epoch (soft references go stale). */
  written(f: number, value: number): void {
    this.content[f] = value;
    this.epoch[f]! += 1;
    this.softLive[f] = 0;
    this.refresh(f);
  }
}
