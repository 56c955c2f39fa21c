import { expect } from 'vitest';
import { exampleSchemaDir } from '../../../../test/fixtures/example-schema/index.js';
import { defaultRateRules } from '../../src/features.js';
import { createLogger } from '../../src/logger.js';
import { createOutboxMailer } from '../../src/mail/outbox-mailer.js';
import type { StartServerOptions } from '../../src/start-server.js';
import { jsonClient, waitForMailedToken } from '../fixtures/auth-helpers.js';
import { useTestServer } from '../fixtures/test-server.js';

/** Who a data call acts as: a user's access token, `anon`, or the service role (no header). */
export type ActAs = string | 'anon' | undefined;

const generous = { capacity: 10_000, refillPerSecond: 1_000 };
const password = 'correct horse battery staple';

/**
 * A test server with the example app schema applied, and small helpers for the data routes,
 * called with plain fetch and the service key (the server tests never import the SDK).
 *
 * @example
 * ```ts
 * const data = useDataServer();
 * const { body } = await data.query({ table: 'items', op: 'select' });
 * ```
 */
export function useDataServer(options: StartServerOptions = {}) {
  const outbox = createOutboxMailer(createLogger('silent'));
  const server = useTestServer({
    schemaDir: exampleSchemaDir,
    corsOrigins: ['http://localhost:5173'],
    mailer: outbox,
    rateRules: Object.fromEntries(Object.keys(defaultRateRules).map((name) => [name, generous])),
    ...options,
  });
  const call = jsonClient(() => server().url);
  const headers = (actAs: ActAs): Record<string, string> => ({
    authorization: `Bearer ${server().serviceKey}`,
    ...(actAs === undefined ? {} : { 'x-plinth-act-as': actAs }),
  });
  return {
    server,
    call,
    query: (body: Record<string, unknown>, actAs?: ActAs) => call('POST', '/v1/query', body, headers(actAs)),
    sql: (text: string, params: unknown[] = [], actAs?: ActAs) =>
      call('POST', '/v1/sql', { text, params }, headers(actAs)),
    batch: (steps: unknown[], actAs?: ActAs) => call('POST', '/v1/batch', { steps }, headers(actAs)),
    schema: () => call('GET', '/v1/schema', undefined, headers(undefined)),
    /** Signs up, verifies and signs in `email`; answers the user's id and access token. */
    async user(email: string): Promise<{ id: string; accessToken: string }> {
      const signUp = await call('POST', '/v1/auth/sign-up', { email, password });
      expect(signUp.status, JSON.stringify(signUp.body)).toBe(200);
      const token = await waitForMailedToken(outbox, email, 'verify_email');
      expect((await call('POST', '/v1/auth/verify-email', { token })).status).toBe(200);
      const signIn = await call('POST', '/v1/auth/sign-in', { email, password });
      expect(signIn.status).toBe(200);
      return { id: signIn.body?.user.id, accessToken: signIn.body?.session.accessToken };
    },
  };
}
