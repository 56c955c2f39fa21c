import { afterAll, describe, expect, it } from 'vitest';
import { type EscalationAttempt, escalationCorpus, harmlessControls } from '../fixtures/escalation-corpus.js';
import { type Channel, createTally, useEscalationHarness } from './escalation-harness.js';

// The privilege-escalation corpus: a few hundred texts that try to leave the app's data through
// POST /v1/sql and `sql` batch steps (SET/RESET, DO, DDL, COPY, files, large objects,
// set_config(), Plinth's own tables, …), each hidden every way a text check can be fooled. Each
// runs as the service role; the ones where acting as a user or sharing a batch's transaction
// changes the outcome run that way too. After every attempt: no 5xx, no canary in the answer, no
// file made or read, and a probe of the connection equal to the baseline taken before.

const harness = useEscalationHarness();

// The corpus's shape (names and categories) does not depend on the paths it points at, so the
// tests can be laid out before the server starts; the texts are built for real inside them.
const shape = escalationCorpus({
  dir: '/nowhere',
  secretFile: '/nowhere/secret.txt',
  database: 'nowhere',
  canaryUserId: '00000000-0000-0000-0000-000000000000',
});

const variantOf = (attempt: EscalationAttempt) => /\[(.*)\]$/.exec(attempt.name)?.[1];
const few = new Set(['plain', 'leading ;', '-- ended by \\r', 'nested block comment']);

/** Which attempts run on which channel, beyond every one as the service role through /v1/sql. */
const channels: Record<Channel, (attempt: EscalationAttempt) => boolean> = {
  'service sql': () => true,
  // A user's call differs where claims, row-level security or the session's role matter.
  'user sql': (attempt) =>
    ['set', 'reset', 'set-config', 'pg-settings', 'do', 'plinth-read', 'advisory-lock', 'transaction'].includes(
      attempt.category,
    ) &&
    (variantOf(attempt) === undefined || few.has(variantOf(attempt) as string)),
  // In a batch the next step shares the transaction: a role switched or a transaction ended by
  // the first step is what the second one runs under.
  'service batch': (attempt) =>
    [
      'set',
      'reset',
      'transaction',
      'set-config',
      'pg-settings',
      'do',
      'dynamic-sql',
      'discard',
      'sql-text-function',
    ].includes(attempt.category) &&
    (variantOf(attempt) === undefined || few.has(variantOf(attempt) as string)),
  'user batch': (attempt) =>
    ['set', 'reset', 'transaction', 'set-config', 'pg-settings'].includes(attempt.category) &&
    (variantOf(attempt) === undefined || few.has(variantOf(attempt) as string)),
};

const tallies = new Map((Object.keys(channels) as Channel[]).map((channel) => [channel, createTally(channel)]));
const started = performance.now();
afterAll(() => {
  for (const tally of tallies.values()) if (tally.attempts > 0) console.log(`escalation corpus, ${tally.summary()}`);
  const rebased = harness.rebased();
  if (rebased.length > 0) console.log(`escalation corpus: state that could not be undone: ${rebased.join(' | ')}`);
  console.log(`escalation corpus: ran in ${Math.round((performance.now() - started) / 1000)} s`);
});

describe('the corpus', () => {
  it('holds at least 300 attempts with unique names, in every category', () => {
    expect(shape.length).toBeGreaterThanOrEqual(300);
    expect(new Set(shape.map((attempt) => attempt.name)).size).toBe(shape.length);
    const categories = new Set(shape.map((attempt) => attempt.category));
    expect(categories.size).toBeGreaterThanOrEqual(30);
  });

  it('the harness is not blind: harmless statements answer 200 and leave the probe unchanged', async () => {
    for (const text of harmlessControls) {
      const outcome = await harness.attempt(text, 'service sql');
      expect(outcome, text).toEqual({ status: 200, violations: [] });
    }
    const control = await harness.data.batch(
      [
        { kind: 'sql', sql: { text: 'SELECT 1 AS one', params: [] } },
        { kind: 'sql', sql: { text: 'SELECT auth.uid() AS uid', params: [] } },
      ],
      harness.attacker(),
    );
    expect(control.status).toBe(200);
    expect(harness.baseline('service')).toMatchObject({
      current_user: 'plinth_service',
      advisory_locks: 0,
      cursors: 0,
    });
    expect(harness.baseline('user')).toMatchObject({ current_user: 'plinth_authenticated' });
  });
});

// Category by category in corpus order (COPY last: see the corpus), each on every channel it runs on.
const categories = [...new Set(shape.map((attempt) => attempt.category))];
for (const category of categories) {
  const runs = (Object.entries(channels) as [Channel, (a: EscalationAttempt) => boolean][])
    .map(([channel, selects]) => ({
      channel,
      selects,
      count: shape.filter((attempt) => attempt.category === category && selects(attempt)).length,
    }))
    .filter((run) => run.count > 0);
  describe(category, () => {
    it.each(runs)(
      '$channel, $count attempts: no escalation',
      async ({ channel, selects }) => {
        const attempts = escalationCorpus(harness.context()).filter(
          (attempt) => attempt.category === category && selects(attempt),
        );
        expect(attempts.length).toBeGreaterThan(0);
        const escalated: string[] = [];
        for (const attempt of attempts) {
          const outcome = await harness.attempt(attempt.text, channel);
          tallies.get(channel)?.record(category, outcome);
          if (outcome.violations.length > 0)
            escalated.push(
              `${attempt.name} → ${outcome.status}: ${outcome.violations.map((v) => `${v.invariant}: ${v.detail}`).join(' / ')}`,
            );
        }
        // Printed as it happens, so the figures survive a run that a wedged database cuts short.
        console.log(`escalation corpus: ${category}, ${channel}: ${escalated.length} of ${attempts.length} escalated`);
        expect(escalated).toEqual([]);
      },
      300_000,
    );
  });
}
