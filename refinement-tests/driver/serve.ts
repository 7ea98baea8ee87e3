/**
 * The reference driver: impl/ (or a plugged-in subclass of its Machine)
 * served over the driver protocol, as `capmem driver [--impl MODULE]`. It is
 * what a driver for a kernel in another language does, in a few lines: read
 * a request per line, answer a line. capmem checks it like any driver:
 *
 *   capmem fuzz --impl-cmd "capmem driver"
 */
import { createInterface } from "node:readline";
import type { State } from "../../spec/state.js";
import type { Config, Op, Result } from "../../spec/vocabulary.js";
import { toSpec } from "../../impl/abstraction.js";
import { Machine } from "../../impl/machine.js";
import { type Answer, PROTOCOL_VERSION, Request } from "./protocol.js";

export async function serve(Impl: new (config: Config) => Machine = Machine, name = "capmem impl/"): Promise<number> {
  let machine: Machine | null = null;
  // (an Answer, with the spec's readonly State where the schema's plain one is)
  const answer = (a: Answer | { type: "result" | "state"; result?: Result; state: State }) => process.stdout.write(JSON.stringify(a) + "\n");
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    let req: Request;
    try {
      req = Request.parse(JSON.parse(line));
    } catch (e) {
      answer({ type: "error", message: `not a request: ${(e as Error).message.split("\n")[0]}` });
      continue;
    }
    switch (req.type) {
      case "hello":
        answer({ type: "hello", protocol: PROTOCOL_VERSION, name });
        break;
      case "boot":
        machine = new Impl(req.config);
        answer({ type: "booted" });
        break;
      case "apply":
        if (!machine) answer({ type: "error", message: "apply before boot" });
        else {
          const result = machine.apply(req.op as Op);
          answer(req.state ? { type: "result", result, state: toSpec(machine) } : { type: "result", result });
        }
        break;
      case "batch":
        if (!machine) answer({ type: "error", message: "batch before boot" });
        else
          for (const op of req.ops) {
            const result = machine.apply(op as Op);
            answer(req.states ? { type: "result", result, state: toSpec(machine) } : { type: "result", result });
          }
        break;
      case "state":
        if (!machine) answer({ type: "error", message: "state before boot" });
        else answer({ type: "state", state: toSpec(machine) });
        break;
      case "bye":
        return 0;
    }
  }
  return 0;
}
