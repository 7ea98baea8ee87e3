/**
 * `describe` and `it` for the tests that run under two runners: vitest (npm
 * test), which exports them, and mocha, which StrykerJS uses for mutation
 * testing (npm run mutation) and which defines them as globals. A test file
 * that imports them from here, and asserts with node:assert, runs under
 * either.
 */
type Suite = (name: string, body: () => void) => void;
type Test = (name: string, body: () => void | Promise<void>) => void;

const globals = globalThis as { describe?: Suite; it?: Test };
const api: { describe: Suite; it: Test } = globals.describe && globals.it ? { describe: globals.describe, it: globals.it } : ((await import("vitest")) as unknown as { describe: Suite; it: Test });

export const describe: Suite = api.describe;
export const it: Test = api.it;
