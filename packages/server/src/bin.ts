#!/usr/bin/env node
import { runCli } from './cli.js';

// The first SIGTERM or SIGINT stops gracefully (requests in flight finish); a second one forces
// the stop (what is left is answered 503, statements on the database cancelled). After that the
// handlers are gone, so a third one kills the process at once, as without them.
let resolveStop: () => void = () => {};
let resolveForce: () => void = () => {};
const stopSignal = new Promise<void>((resolve) => {
  resolveStop = resolve;
});
const forceSignal = new Promise<void>((resolve) => {
  resolveForce = resolve;
});
let signals = 0;
const onSignal = () => {
  signals++;
  if (signals === 1) return resolveStop();
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  resolveForce();
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

runCli(process.argv.slice(2), {
  stdout: (line) => console.log(line),
  stderr: (line) => console.error(line),
  env: process.env,
  cwd: process.cwd(),
  stopSignal,
  forceSignal,
  // \r and erase-line: a progress bar redrawn in place, on a terminal only.
  progress: process.stderr.isTTY ? (text) => process.stderr.write(`\r\x1b[K${text}`) : undefined,
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
