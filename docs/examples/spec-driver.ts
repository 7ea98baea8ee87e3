/**
 * A complete capmem driver in one file, as a kernel team would write one:
 * read a request per line on stdin, answer a line on stdout (docs/protocol.md).
 * It is a separate program that does not use impl/: the implementation it
 * serves is the spec itself (so it agrees with capmem by construction). To
 * check your kernel, keep the loop and replace the three marked lines with
 * calls into your kernel and its abstraction function.
 *
 *   capmem fuzz --impl-cmd "npx tsx docs/examples/spec-driver.ts"
 */
import { createInterface } from "node:readline";
import { boot, step, type Op, type Result, type State } from "../../spec/index.js";

let state: State | null = null;
const say = (answer: object) => process.stdout.write(JSON.stringify(answer) + "\n");

/** Applies one operation to the system under test; returns its result. */
function apply(op: Op): Result {
  const s = step(state!, op); // <- your kernel: perform op
  state = s.state;
  return s.result;
}

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  const req = JSON.parse(line);
  switch (req.type) {
    case "hello":
      say({ type: "hello", protocol: 1, name: "spec-driver example" });
      break;
    case "boot":
      state = boot(req.config); // <- your kernel: boot from req.config
      say({ type: "booted" });
      break;
    case "apply": {
      const result = apply(req.op);
      say(req.state ? { type: "result", result, state } : { type: "result", result }); // <- your abstraction function
      break;
    }
    case "batch":
      for (const op of req.ops) {
        const result = apply(op);
        say(req.states ? { type: "result", result, state } : { type: "result", result });
      }
      break;
    case "state":
      say({ type: "state", state });
      break;
    case "bye":
      process.exit(0);
  }
}
