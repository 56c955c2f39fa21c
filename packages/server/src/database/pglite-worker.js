// @ts-check
// The embedded database's thread. PGlite is PostgreSQL compiled to WebAssembly and runs every
// statement synchronously on the thread that calls it: on the server's thread, a slow statement
// (pg_sleep(5), a big sort) stopped every timer, socket and request of the process for as long
// as it ran. Here it stops only this thread. Plain JavaScript, not TypeScript, so that the same
// file runs from the sources (tests) and from the published package without a build step.
import { parentPort } from 'node:worker_threads';
import { openPglite } from './pglite-sync.js';

if (!parentPort) throw new Error('pglite-worker.js runs as a worker thread of @plinth/server.');
const port = parentPort;

// JSON parameters are always serialised as JSON, a string too (as postgres.js does), so that a
// data statement's values mean the same on both engines.
const jsonAlways = {
  114: (/** @type {unknown} */ value) => JSON.stringify(value),
  3802: (/** @type {unknown} */ value) => JSON.stringify(value),
};

/** An error as plain data: PostgreSQL's fields (code, detail, position, …) survive the copy. */
function plainError(/** @type {unknown} */ error) {
  if (!(error instanceof Error)) return { message: String(error) };
  /** @type {Record<string, string | number | boolean>} */
  const fields = {};
  for (const [key, value] of Object.entries(error)) {
    if (['string', 'number', 'boolean'].includes(typeof value)) fields[key] = value;
  }
  return { ...fields, message: error.message, name: error.name };
}

/** @type {import('@electric-sql/pglite').PGlite} */
let db;
/** @type {Map<string, () => Promise<void>>} */
const listening = new Map();

/** @type {Record<string, (message: any) => Promise<unknown>>} */
const operations = {
  // `durability` ('sync' unless the server says 'none') decides whether a commit is on disk
  // before it is answered; see pglite-sync.js.
  async open({ location, durability = 'sync' }) {
    db = await openPglite(location, durability);
  },
  async query({ text, params }) {
    return (await db.query(text, params)).rows;
  },
  async run({ text, params }) {
    const result = await db.query(text, params, { serializers: jsonAlways });
    return {
      rows: result.rows,
      fields: result.fields.map((field) => ({ name: field.name, typeOid: field.dataTypeID })),
      command: /** @type {{ command?: string }} */ (result).command ?? '',
      rowCount: /** @type {{ rowCount?: number }} */ (result).rowCount ?? result.affectedRows ?? result.rows.length,
    };
  },
  async exec({ text }) {
    await db.exec(text);
  },
  async listen({ channel }) {
    if (!listening.has(channel)) {
      listening.set(channel, await db.listen(channel, (payload) => port.postMessage({ channel, payload })));
    }
  },
  async unlisten({ channel }) {
    await listening.get(channel)?.();
    listening.delete(channel);
  },
  async close() {
    await db?.close();
  },
};

port.on('message', async (message) => {
  try {
    const operation = operations[message.op];
    if (!operation) throw new Error(`Unknown operation ${message.op}`);
    // Posting throws for a value that cannot be copied; that too is answered as an error.
    port.postMessage({ id: message.id, result: await operation(message) });
  } catch (error) {
    port.postMessage({ id: message.id, error: plainError(error) });
  }
});
