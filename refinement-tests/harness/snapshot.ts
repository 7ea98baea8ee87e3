/**
 * A copy of an impl machine's concrete state, to check that an operation
 * that failed changed nothing (used by the lockstep and the mutation
 * corpus; a module of its own so the corpus loads nothing else).
 */
import type { Machine } from "../../impl/machine.js";

/**
 * The impl's concrete state (every typed array, bitmap and number field of
 * the machine) copied into one reusable buffer, to check that an operation
 * that failed changed nothing. `take` copies each array natively; `changed`
 * compares 32-bit words (bytes for byte arrays) and names the fields that
 * differ.
 */
export class Snapshot {
  private saved = new ArrayBuffer(1 << 14);
  private savedBytes = new Uint8Array(this.saved);
  private savedWords = new Int32Array(this.saved);
  private nums = new Float64Array(64);
  private lengths = new Int32Array(64);
  private fieldCount = 0;
  /** views of the machine's arrays by field position, remade when an array is replaced (it grew) */
  private arrays: unknown[] = [];
  private views: FieldView[] = [];
  /** each machine's state fields (numbers, typed arrays, bitmaps), as paths of one or two keys */
  private readonly fieldPaths = new WeakMap<object, (readonly [string, string | null])[]>();

  /** Views of array a, the k-th array field visited. */
  private view(k: number, a: ArrayBufferView): FieldView {
    if (this.arrays[k] !== a) {
      const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      const words = a.byteOffset % 4 === 0 && a.byteLength % 4 === 0 ? new Int32Array(a.buffer, a.byteOffset, a.byteLength / 4) : null;
      this.arrays[k] = a;
      this.views[k] = { bytes, words };
    }
    return this.views[k]!;
  }

  /**
   * Calls `visit` for each state field of m in a fixed order, with a number
   * or views of its array. The fields are the machine's own and those of the
   * tables it is composed of (one level down: frames.refs, caps.parent, ...).
   */
  private each(m: Machine, visit: (name: string, v: number | FieldView) => void): void {
    const root = m as unknown as Record<string, unknown>;
    let paths = this.fieldPaths.get(m);
    if (paths === undefined) {
      paths = [];
      for (const key of Object.keys(root)) {
        const v = root[key];
        // `value` and the notice read are the last result, not state; `config` is fixed; the walk stacks and `lost` are scratch (a check may walk a tree before it fails)
        if (key === "value" || key === "noticeTask" || key === "noticePage" || key === "config" || key === "stack" || key === "mapStack" || key === "lost") continue;
        if (isStateField(v)) paths.push([key, null]);
        else if (v !== null && typeof v === "object" && !Array.isArray(v)) {
          const table = v as Record<string, unknown>;
          for (const sub of Object.keys(table)) if (isStateField(table[sub])) paths.push([key, sub]);
        }
      }
      this.fieldPaths.set(m, paths);
    }
    let k = 0;
    for (const [key, sub] of paths) {
      const v = sub === null ? root[key] : (root[key] as Record<string, unknown>)[sub];
      const name = sub === null ? key : `${key}.${sub}`;
      if (typeof v === "number") visit(name, v);
      else if (ArrayBuffer.isView(v)) visit(name, this.view(k++, v));
      else {
        const set = v as { words: Uint32Array; summary: Uint32Array };
        visit(`${name}.words`, this.view(k++, set.words));
        visit(`${name}.summary`, this.view(k++, set.summary));
      }
    }
  }

  take(m: Machine): this {
    let at = 0; // byte offset in `saved`, kept 4-aligned
    let i = 0;
    this.each(m, (_, v) => {
      if (i === this.lengths.length) {
        this.lengths = grownTo(this.lengths, 2 * i);
        this.nums = grownTo(this.nums, 2 * i);
      }
      if (typeof v === "number") {
        this.nums[i] = v;
        this.lengths[i] = -1;
      } else {
        const n = v.bytes.length;
        if (at + n > this.saved.byteLength) {
          const bigger = new ArrayBuffer(Math.max(2 * this.saved.byteLength, at + n + 4));
          new Uint8Array(bigger).set(this.savedBytes.subarray(0, at));
          this.saved = bigger;
          this.savedBytes = new Uint8Array(bigger);
          this.savedWords = new Int32Array(bigger, 0, bigger.byteLength >> 2);
        }
        this.savedBytes.set(v.bytes, at);
        this.lengths[i] = n;
        at += (n + 3) & ~3;
      }
      i++;
    });
    this.fieldCount = i;
    return this;
  }

  /** The names of the fields of m that differ from the last `take` (empty: unchanged). */
  changed(m: Machine): string[] {
    const out: string[] = [];
    let at = 0;
    let i = 0;
    this.each(m, (name, v) => {
      if (i >= this.fieldCount) out.push(name);
      else if (typeof v === "number") {
        if (this.lengths[i] !== -1 || this.nums[i] !== v) out.push(name);
      } else {
        const n = this.lengths[i]!;
        if (n !== v.bytes.length) out.push(name);
        else if (v.words !== null ? !sameWords(this.savedWords, at >> 2, v.words) : !sameBytes(this.savedBytes, at, v.bytes)) out.push(name);
        at += (Math.max(0, n) + 3) & ~3;
      }
      i++;
    });
    return out;
  }
}

interface FieldView {
  readonly bytes: Uint8Array;
  /** the same memory as 32-bit words, when it is word-aligned and a whole number of words */
  readonly words: Int32Array | null;
}

function sameWords(saved: Int32Array, from: number, now: Int32Array): boolean {
  for (let j = 0; j < now.length; j++) if (saved[from + j] !== now[j]) return false;
  return true;
}

function sameBytes(saved: Uint8Array, from: number, now: Uint8Array): boolean {
  for (let j = 0; j < now.length; j++) if (saved[from + j] !== now[j]) return false;
  return true;
}

function grownTo<T extends Int32Array | Float64Array>(a: T, n: number): T {
  const b = new (a.constructor as { new (n: number): T })(n);
  b.set(a);
  return b;
}

/** Is v part of a machine's state: a number, a typed array or a bitmap of typed arrays? */
function isStateField(v: unknown): boolean {
  return typeof v === "number" || ArrayBuffer.isView(v) || (v !== null && typeof v === "object" && "words" in v && "summary" in v);
}

