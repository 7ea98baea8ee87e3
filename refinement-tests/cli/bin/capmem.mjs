#!/usr/bin/env node
// The capmem command. Runs the TypeScript sources through tsx's loader.
import { register } from "tsx/esm/api";

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

register();
const { main } = await import("../cli.ts");
process.exitCode = await main(process.argv.slice(2));
