import { createTransport, type Transport } from '@plinth/core';
import { describe, expectTypeOf, it } from 'vitest';
import { createThingRoute, publicGetRoute, serviceRoute } from '../../../test/fixtures/routes.js';

// These are compile-time checks: `pnpm typecheck` fails if a call below stops type-checking or
// an `@ts-expect-error` line starts to. The function is never run, so no request is made.
function calls(transport: Transport) {
  transport.call(publicGetRoute);
  transport.call(serviceRoute);
  // @ts-expect-error input is required when the route has a required field
  transport.call(createThingRoute);
  // @ts-expect-error a field of the wrong type
  transport.call(createThingRoute, { name: 1 });
  // @ts-expect-error a field the route does not declare
  transport.call(createThingRoute, { name: 'x', extra: true });
  return transport.call(createThingRoute, { name: 'x' });
}

describe('transport.call types', () => {
  it('takes input and returns output as the route declares them', () => {
    expectTypeOf(calls).returns.resolves.toEqualTypeOf<{ id: string; name: string }>();
    expectTypeOf(createTransport({ url: 'https://x' }).call<typeof publicGetRoute>)
      .parameter(1)
      .toEqualTypeOf<Record<string, never> | undefined>();
  });
});
