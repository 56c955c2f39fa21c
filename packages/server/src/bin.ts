#!/usr/bin/env node
import { once } from 'node:events';
import { runCli } from './cli.js';

const stopSignal = Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
runCli(process.argv.slice(2), {
  stdout: (line) => console.log(line),
  stderr: (line) => console.error(line),
  env: process.env,
  cwd: process.cwd(),
  stopSignal,
  // \r and erase-line: a progress bar redrawn in place, on a terminal only.
  progress: process.stderr.isTTY ? (text) => process.stderr.write(`\r\x1b[K${text}`) : undefined,
}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
