import { Driver } from "./refinement-tests/driver/client.js";
import { SMALL_CONFIG } from "./refinement-tests/harness/generate.js";
const d = new Driver(process.argv[2]!, 5000);
let t0 = performance.now();
const s = d.session(SMALL_CONFIG);
console.log("start+boot", (performance.now() - t0).toFixed(0), "ms");
for (const st of [false, true]) {
  const n = 2000; t0 = performance.now();
  for (let i = 0; i < n; i++) s.apply({ op: "mem.read", task: 0, vpage: 0 }, st);
  console.log("state", st, ((performance.now() - t0) / n * 1000).toFixed(0), "us/round trip");
}
d.close();
