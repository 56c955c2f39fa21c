import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { StartServerOptions } from '../../src/start-server.js';
import { batchFollower, type CorpusContext, userBatchFollower } from '../fixtures/escalation-corpus.js';
import { useDataServer } from './data-fixture.js';

/** How an attempt is sent: `/v1/sql` or as the first `sql` step of `/v1/batch`, as the service or a user. */
export type Channel = 'service sql' | 'user sql' | 'service batch' | 'user batch';

/** One broken invariant, with what the harness saw. */
export interface Violation {
  readonly invariant: 'no 5xx' | 'no canary in an answer' | 'no state outlives the call' | 'no file touched';
  readonly detail: string;
}

export interface Outcome {
  readonly status: number;
  readonly violations: readonly Violation[];
}

type ProbeRow = Record<string, unknown>;

/** How long one call may take before the server counts as wedged (a guard, not a speed check). */
const answerTimeoutMs = 20_000;

// One statement that reads everything an attempt could have left behind on the connection, or
// changed for good: who the call runs as, settings (current and the session's RESET value), locks,
// prepared statements, cursors, channels, temp objects, large objects, and every catalog an
// escalated statement could have written (names the corpus uses all start with esc_).
// The roles of this database only: roles belong to the whole cluster, where other test files
// make and drop their own (each database's data login role, the CREATEROLE test's) meanwhile.
const ownRoles = `ARRAY['plinth_server', 'plinth_anon', 'plinth_authenticated', 'plinth_service', 'plinth_owner',
  'plinth_data_' || (SELECT oid FROM pg_database WHERE datname = current_database())]::text[]`;

const probeText = `SELECT current_user::text AS current_user, session_user::text AS session_user,
  current_setting('role') AS role_setting,
  current_setting('statement_timeout') AS statement_timeout,
  current_setting('request.jwt.claims', true) AS claims,
  current_setting('search_path') AS search_path,
  current_setting('default_transaction_read_only') AS read_only,
  current_setting('row_security') AS row_security,
  (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
     AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))::int AS advisory_locks,
  (SELECT count(*) FROM pg_prepared_statements WHERE from_sql)::int AS prepared_statements,
  (SELECT count(*) FROM pg_cursors WHERE name <> '')::int AS cursors,
  (SELECT count(*) FROM pg_listening_channels())::int AS listening,
  (SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema())::int AS temp_relations,
  (SELECT count(*) FROM pg_proc WHERE pronamespace = pg_my_temp_schema())::int AS temp_functions,
  (SELECT count(*) FROM pg_type WHERE typnamespace = pg_my_temp_schema())::int AS temp_types,
  (SELECT count(*) FROM pg_largeobject_metadata)::int AS large_objects,
  (SELECT string_agg(name || '=' || coalesce(setting, '') || '/' || coalesce(reset_val, ''), ',' ORDER BY name)
     FROM pg_settings WHERE source = 'session' OR reset_val IS DISTINCT FROM boot_val) AS settings,
  (SELECT count(*) FROM pg_roles WHERE rolname LIKE 'esc\\_%')::int AS esc_roles,
  (SELECT string_agg(rolname || ':' || rolsuper || rolbypassrls || rolcreaterole || rolinherit, ',' ORDER BY rolname)
     FROM pg_roles WHERE rolname = ANY (${ownRoles})) AS data_roles,
  (SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = ANY (${ownRoles}))::int AS memberships,
  (SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'esc\\_%')::int AS esc_schemas,
  (SELECT count(*) FROM pg_class WHERE relname LIKE 'esc\\_%')::int AS esc_relations,
  (SELECT count(*) FROM pg_proc WHERE proname LIKE 'esc\\_%')::int AS esc_functions,
  (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal)::int AS triggers,
  (SELECT count(*) FROM pg_rewrite WHERE rulename LIKE 'esc\\_%')::int AS rules,
  (SELECT count(*) FROM pg_policy)::int AS policies,
  (SELECT count(*) FROM pg_event_trigger)::int AS event_triggers,
  (SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension) AS extensions,
  (SELECT count(*) FROM pg_default_acl)::int AS default_acls,
  (SELECT count(*) FROM pg_db_role_setting
     WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()))::int AS role_settings,
  (SELECT string_agg(relname || ':' || relrowsecurity || relforcerowsecurity || coalesce(relacl::text, ''), ',' ORDER BY relname)
     FROM pg_class WHERE relnamespace IN ('public'::regnamespace, 'plinth'::regnamespace) AND relkind IN ('r', 'v')) AS tables,
  has_function_privilege('pg_catalog.set_config(text, text, boolean)', 'EXECUTE') AS may_set_config`;

// Statements that undo what an escalated attempt left on the connection, sent through the same
// hole the attempts use (a leading `;`); a fixed server refuses them all, and has nothing to undo.
// They let the run go on and blame the next leftover on the attempt that made it.
const cleanupTexts = [
  ';RESET ALL',
  ';RESET SESSION AUTHORIZATION',
  'SELECT pg_advisory_unlock_all()',
  ';CLOSE ALL',
  // Not UNLISTEN *: on PGlite the server's own LISTEN shares the connection.
  ';UNLISTEN esc_channel',
  ';UNLISTEN esc_fuzz',
  ';DISCARD TEMP',
  ';DEALLOCATE ALL',
  'SELECT lo_unlink(oid) FROM pg_largeobject_metadata',
];

/** The probe answered, but not 200: the connection's state is broken, the server is not gone. */
class ProbeFailed extends Error {}

const changedKeys = (baseline: ProbeRow, now: ProbeRow) =>
  Object.keys({ ...baseline, ...now }).filter((key) => JSON.stringify(baseline[key]) !== JSON.stringify(now[key]));

/**
 * A data server with canaries planted (a user whose row holds an argon2id hash, the service key's
 * SHA-256 in plinth.keys, that user's private note, a random token in a file only PostgreSQL's OS
 * user could read for a caller), a baseline of the connection's state, and `attempt()`, which
 * sends one text and checks every invariant after it.
 *
 * `dataPoolSize: 1` makes every data call on PostgreSQL share one connection, so what an attempt
 * leaves on its connection is what the next probe sees. A server that does not know the option
 * yet ignores it; then, on PostgreSQL, a leftover on another pooled connection may go unseen
 * (advisory locks are counted over the whole database, so those do not).
 */
export function useEscalationHarness() {
  const options: StartServerOptions & { dataPoolSize?: number } = { dataPoolSize: 1 };
  const data = useDataServer(options);
  const random = randomBytes(8).toString('hex');
  // Under /tmp and world-writable, so that PostgreSQL (another OS user) could write here if an
  // attack succeeded; the check must be able to see it.
  const dir = mkdtempSync(join('/tmp', 'plinth-escalation-'));
  chmodSync(dir, 0o777);
  const secretName = 'secret.txt';
  const secretFile = join(dir, secretName);
  const fileToken = `file-token-${randomBytes(12).toString('hex')}`;
  writeFileSync(secretFile, fileToken);
  chmodSync(secretFile, 0o644);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const canaryEmail = `canary-${random}@example.com`;
  const noteSecret = `note-canary-${randomBytes(12).toString('hex')}`;
  const state = {
    context: undefined as CorpusContext | undefined,
    attacker: '',
    keyHash: '',
    baseline: new Map<string, ProbeRow>(),
    rebased: [] as string[],
    /** The text after which the server stopped answering, if it did. */
    deadSince: undefined as string | undefined,
  };

  const actorOf = (channel: Channel) => (channel.startsWith('user') ? state.attacker : undefined);

  async function probe(actAs: string | undefined): Promise<ProbeRow> {
    const answer = await sql(probeText, actAs);
    if (answer.status !== 200)
      throw new ProbeFailed(`the probe failed: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body?.rows[0] as ProbeRow;
  }

  beforeAll(async () => {
    const serviceKey = data.server().serviceKey;
    if (!serviceKey) throw new Error('the test server made no service key');
    state.keyHash = createHash('sha256').update(serviceKey).digest('hex');
    const canary = await data.user(canaryEmail);
    const note = await data.sql(
      'INSERT INTO public.notes (body) VALUES ($1) RETURNING id',
      [noteSecret],
      canary.accessToken,
    );
    expect(note.status, JSON.stringify(note.body)).toBe(200);
    state.attacker = (await data.user(`attacker-${random}@example.com`)).accessToken;
    // The canaries are really there, in the form the checks look for: a check for a string that
    // the database does not hold could never fail.
    const planted = await data.server().services.database.query<{ hashes: number; keys: number }>(
      `SELECT (SELECT count(*) FROM plinth.users WHERE email = $1 AND password_hash LIKE '$argon2id$%')::int AS hashes,
              (SELECT count(*) FROM plinth.keys WHERE key_hash = $2)::int AS keys`,
      [canaryEmail, state.keyHash],
    );
    expect(planted).toEqual([{ hashes: 1, keys: 1 }]);
    const names = await data.sql('SELECT current_database() AS database');
    state.context = { dir, secretFile, database: names.body?.rows[0].database, canaryUserId: canary.id };
    for (const actAs of [undefined, state.attacker]) state.baseline.set(actAs ?? 'service', await probe(actAs));
  }, 120_000);

  /** Every canary string, and where it came from; the note only counts for a user's calls. */
  function canaries(channel: Channel): [string, string][] {
    return [
      ['the canary email', canaryEmail],
      ['an argon2id hash', '$argon2id$'],
      ['the service key hash', state.keyHash],
      ['the secret file token', fileToken],
      // The service role may read every note (policy notes_service); a user may not read another's.
      ...(channel.startsWith('user') ? ([['another user’s note', noteSecret]] as [string, string][]) : []),
    ];
  }

  /**
   * A data call that gives up after `answerTimeoutMs`: a statement that wedges the database (on
   * PGlite, a superuser's COPY TO PROGRAM never returns) must fail the run, not hang it.
   */
  async function call(path: string, body: unknown, actAs: string | undefined) {
    const response = await fetch(`${data.server().url}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${data.server().serviceKey}`,
        ...(actAs === undefined ? {} : { 'x-plinth-act-as': actAs }),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(answerTimeoutMs),
    });
    const text = await response.text();
    // biome-ignore lint/suspicious/noExplicitAny: answers are read loosely; the checks look at their text.
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, any> | undefined };
  }

  const sql = (text: string, actAs: string | undefined) => call('/v1/sql', { text, params: [] }, actAs);

  async function send(text: string, channel: Channel) {
    const actAs = actorOf(channel);
    if (channel.endsWith('sql')) return sql(text, actAs);
    const follower = channel === 'user batch' ? userBatchFollower : batchFollower;
    return call(
      '/v1/batch',
      {
        steps: [
          { kind: 'sql', sql: { text, params: [] } },
          { kind: 'sql', sql: { text: follower, params: [] } },
        ],
      },
      actAs,
    );
  }

  /** Sends `text` on `channel`, then checks every invariant; cleans up after a broken one. */
  async function attempt(text: string, channel: Channel): Promise<Outcome> {
    if (state.deadSince) {
      const detail = `not sent: the server stopped answering after ${state.deadSince}`;
      return { status: 0, violations: [{ invariant: 'no 5xx', detail }] };
    }
    const wedged = (error: unknown): Outcome => {
      state.deadSince = JSON.stringify(text).slice(0, 200);
      const detail = `no answer within ${answerTimeoutMs} ms (${String(error)}); the server stopped answering`;
      return { status: 0, violations: [{ invariant: 'no 5xx', detail }] };
    };
    const violations: Violation[] = [];
    let answer: Awaited<ReturnType<typeof send>>;
    try {
      answer = await send(text, channel);
    } catch (error) {
      return wedged(error);
    }
    const body = JSON.stringify(answer.body ?? null);
    if (answer.status >= 500)
      violations.push({ invariant: 'no 5xx', detail: `${answer.status} ${body.slice(0, 300)}` });
    for (const [what, value] of canaries(channel)) {
      if (body.includes(value))
        violations.push({ invariant: 'no canary in an answer', detail: `${what} in ${body.slice(0, 300)}` });
    }
    const files = readdirSync(dir).filter((name) => name !== secretName);
    if (files.length > 0) {
      violations.push({ invariant: 'no file touched', detail: `created ${files.join(', ')}` });
      for (const name of files) rmSync(join(dir, name), { recursive: true, force: true });
    }
    let dirty = false;
    for (const actAs of channel.startsWith('user') ? [undefined, state.attacker] : [undefined]) {
      const key = actAs ?? 'service';
      const before = state.baseline.get(key) as ProbeRow;
      let now: ProbeRow;
      try {
        now = await probe(actAs);
      } catch (error) {
        if (!(error instanceof ProbeFailed)) return wedged(error);
        // The session is broken for the probe itself (say, a setting that makes it fail).
        dirty = true;
        violations.push({ invariant: 'no state outlives the call', detail: `as ${key}: ${error.message}` });
        continue;
      }
      const changed = changedKeys(before, now);
      if (changed.length > 0) {
        dirty = true;
        const what = changed.map((k) => `${k}: ${JSON.stringify(before[k])} → ${JSON.stringify(now[k])}`).join('; ');
        violations.push({ invariant: 'no state outlives the call', detail: `as ${key}: ${what}`.slice(0, 600) });
      }
    }
    if (dirty) await cleanUp().catch(() => undefined);
    return { status: answer.status, violations };
  }

  /** Undoes what it can, then takes what remains (a lasting catalog change) as the new baseline. */
  async function cleanUp() {
    for (const actAs of [undefined, state.attacker]) {
      for (const text of cleanupTexts) await sql(text, actAs);
    }
    for (const actAs of [undefined, state.attacker]) {
      const key = actAs ?? 'service';
      const now = await probe(actAs);
      const changed = changedKeys(state.baseline.get(key) as ProbeRow, now);
      if (changed.length > 0) {
        state.rebased.push(`${key}: ${changed.join(', ')}`);
        state.baseline.set(key, now);
      }
    }
  }

  return {
    data,
    dir,
    attempt,
    probe,
    /** Paths, names and ids the corpus points at; set once the server is up. */
    context: (): CorpusContext => {
      if (!state.context) throw new Error('the harness has not started');
      return state.context;
    },
    /** What could not be undone after a broken invariant (the baseline moved on). */
    rebased: () => state.rebased,
    baseline: (actAs: 'service' | 'user') => state.baseline.get(actAs === 'service' ? 'service' : state.attacker),
    attacker: () => state.attacker,
  };
}

/** Counts for the summary line: attempts, answers by status, escalations by category. */
export function createTally(label: string) {
  const statuses = new Map<number, number>();
  const escalations = new Map<string, number>();
  const invariants = new Map<string, number>();
  let attempts = 0;
  return {
    record(category: string, outcome: Outcome) {
      attempts++;
      statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
      if (outcome.violations.length > 0) escalations.set(category, (escalations.get(category) ?? 0) + 1);
      for (const invariant of new Set(outcome.violations.map((v) => v.invariant)))
        invariants.set(invariant, (invariants.get(invariant) ?? 0) + 1);
    },
    get attempts() {
      return attempts;
    },
    summary() {
      const total = [...escalations.values()].reduce((a, b) => a + b, 0);
      return `${label}: ${attempts} attempts, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}, ${total} escalations ${JSON.stringify(Object.fromEntries(escalations))}, by invariant ${JSON.stringify(Object.fromEntries(invariants))}`;
    },
  };
}
