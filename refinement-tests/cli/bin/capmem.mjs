#!/usr/bin/env node
// The capmem command. Runs the TypeScript sources through tsx's loader.
import { register } from "tsx/esm/api";

// `npm run capmem -- ...` runs in the package root; relative paths the user
// gave are relative to where they typed it (npm says where: INIT_CWD).
const event = process.env.npm_lifecycle_event;
if ((event === "capmem" || event === "fuzz") && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);

register();
const { main } = await import("../cli.ts");
process.exitCode = await main(process.argv.slice(2));
