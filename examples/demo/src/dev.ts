// `pnpm dev`: the Plinth server (as `plinth dev` runs it: PGlite on disk, dev mail in this
// terminal) and the demo page, in one process.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Mailer, startServer } from '@plinth/server';
import { startDemo } from './start-demo.js';

const plinthDir = fileURLToPath(new URL('../.plinth', import.meta.url));
const keysFile = join(plinthDir, 'keys.env');

function portFrom(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`${name}=${value} is not a port: give a number from 1 to 65535.`);
    process.exit(2);
  }
  return port;
}

/** The publishable key saved at the first start (the database keeps only its hash). */
function savedPublishableKey(): string | undefined {
  try {
    return readFileSync(keysFile, 'utf8').match(/^PLINTH_PUBLISHABLE_KEY=(\S+)$/m)?.[1];
  } catch {
    return undefined;
  }
}

/** As `plinth dev` does: the keys of a fresh database, readable by this user only. */
function saveKeys(url: string, publishableKey: string, serviceKey: string): void {
  mkdirSync(plinthDir, { recursive: true });
  const text = `PLINTH_URL=${url}\nPLINTH_PUBLISHABLE_KEY=${publishableKey}\nPLINTH_SERVICE_KEY=${serviceKey}\n`;
  writeFileSync(keysFile, text, { mode: 0o600 });
  chmodSync(keysFile, 0o600);
}

// Dev mail is printed here, plainly, so a person can open the verification link.
const terminalMailer: Mailer = {
  async send(mail) {
    const body = mail.text.trimEnd().replace(/^(?=.)/gm, '   ');
    console.log(`\n✉  Mail to ${mail.to}: ${mail.subject}\n${body}\n`);
  },
  async close() {},
};

const serverPort = portFrom('PORT', 8787);
const demoPort = portFrom('PORT_DEMO', 5173);

const server = await startServer({
  port: serverPort,
  database: join(plinthDir, 'data'),
  // The page's origin: CORS with credentials, the CSRF check, and where email links may point.
  corsOrigins: [`http://127.0.0.1:${demoPort}`, `http://localhost:${demoPort}`],
  logLevel: process.env.PLINTH_LOG_LEVEL ?? 'warn',
  ...(process.env.SMTP_URL ? {} : { mailer: terminalMailer }),
}).catch((cause: NodeJS.ErrnoException) => {
  if (cause.code !== 'EADDRINUSE') throw cause;
  console.error(`Port ${serverPort} is in use (another plinth dev?): stop it, or set PORT.`);
  process.exit(1);
});

let publishableKey = server.publishableKey;
if (publishableKey && server.serviceKey) {
  saveKeys(server.url, publishableKey, server.serviceKey);
  console.log(`New database: keys saved to ${keysFile} (readable by you only).`);
} else {
  publishableKey = savedPublishableKey();
  if (publishableKey) console.log(`Keys read from ${keysFile}.`);
}
if (!publishableKey) {
  console.error(
    `The database in ${plinthDir} has keys, but ${keysFile} is missing, and only their hashes are stored. Delete ${plinthDir} to start afresh.`,
  );
  await server.close();
  process.exit(1);
}

const demo = await startDemo({ serverUrl: server.url, publishableKey, port: demoPort }).catch(
  async (cause: NodeJS.ErrnoException) => {
    await server.close();
    if (cause.code !== 'EADDRINUSE') throw cause;
    console.error(`Port ${demoPort} is in use: stop what runs there, or set PORT_DEMO.`);
    process.exit(1);
  },
);

console.log(`Plinth server: ${server.url} (data in ${join(plinthDir, 'data')})`);
console.log(`\n  Open ${demo.url} to sign up, sign in and see who you are.\n`);
console.log('Mail (the verification link) is printed here. Ctrl-C stops.');

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('Stopping…');
  await demo.close();
  await server.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
