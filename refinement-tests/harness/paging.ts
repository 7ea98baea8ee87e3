/**
 * A test fixture shared by the impl's representation tests and the scale
 * tests: pages brought in by faults that sigma0 serves.
 */
import type { Op } from "../../spec/vocabulary.js";

/**
 * The operations by which task 1, paged by sigma0 (task 0), gets sigma0's
 * pages 0 to n - 1: sigma0 fills slot v of its container (in its capability
 * slot 2) and maps it at page v, task 1 reads page v and faults, and
 * sigma0 serves the fault.
 */
export function faultedIn(n: number): Op[] {
  const ops: Op[] = [];
  for (let v = 0; v < n; v++) {
    ops.push({ op: "container.alloc", task: 0, container: 2, index: v });
    ops.push({ op: "page.map", task: 0, container: 2, index: v, vpage: v, rights: ["read"] });
    ops.push({ op: "mem.read", task: 1, vpage: v });
    ops.push({ op: "sigma0.serve" });
  }
  return ops;
}
