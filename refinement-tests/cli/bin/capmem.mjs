#!/usr/bin/env node
// The capmem command. In a clone of the repository it runs the TypeScript
// sources through tsx's loader; in the package (npm pack), which holds the
// compiled JavaScript and no sources, it runs that.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

// `npm run capmem -- ...` runs in the package root; relative paths the user
// gave are relative to where they typed it (npm says where: INIT_CWD).
const event = process.env.npm_lifecycle_event;
if ((event === "capmem" || event === "fuzz") && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);

// Output piped into a command that stops reading (`capmem check t.json | head`)
// ends the run quietly, as other command-line tools do, not with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
}

const root = fileURLToPath(new URL("../../../", import.meta.url));
let main;
if (existsSync(`${root}spec/operations.ts`)) {
  const { register } = await import("tsx/esm/api");
  register();
  globalThis.capmemTypeScript = true; // --impl modules in TypeScript load as they are
  ({ main } = await import("../cli.ts"));
} else {
  ({ main } = await import(`${root}dist/refinement-tests/cli/cli.js`));
}
process.exitCode = await main(process.argv.slice(2));
