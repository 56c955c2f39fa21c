import { type CallOptions, ProtocolError } from '@plinth/core';
import { batchRoute } from '@plinth/protocol';
import { type BatchResult, type BatchStep, type BatchStepPlan, toBatchStep } from './batch-step.js';
import { type DataContext, dataCallOptions } from './data-context.js';
import { refusal } from './refusal.js';

/** The results of a batch, one per step, each typed as awaiting that step alone would give. */
export type BatchResults<T extends readonly unknown[]> = { -readonly [K in keyof T]: BatchResult<T[K]> };

const refuse = (what: string) => refusal('batch()', what);

/**
 * Runs queries and statements (not yet awaited) in one request, in order, in one transaction:
 * all or nothing. Without a service key it throws `MissingServiceKeyError` at once; an unscoped
 * change or a step built on another `as()` scope is refused at once too.
 *
 * @example
 * ```ts
 * const run = batchRunner(context);
 * const [post, { rowCount }] = await run([posts.insert(row).returning().single(), sql`update counters set n = n + 1`]);
 * ```
 */
export function batchRunner(context: DataContext) {
  return function batch<const T extends readonly BatchStep<unknown>[]>(
    steps: T,
    options?: CallOptions,
  ): Promise<BatchResults<T>> {
    context.transport.assertCallable(batchRoute, 'batch()');
    if (!Array.isArray(steps) || steps.length === 0) throw refuse('takes a non-empty array of steps');
    const plans = steps.map((step, index): BatchStepPlan<unknown> => {
      if (typeof step !== 'object' || step === null || typeof step[toBatchStep] !== 'function') {
        throw refuse(`step ${index} is not a query or sql statement (not yet awaited)`);
      }
      const plan = step[toBatchStep]();
      if (plan.scope !== null && plan.scope.actAs !== context.actAs) {
        throw refuse(`step ${index} was built on a client acting as someone else; batch it with that client`);
      }
      return plan;
    });
    const answer = context.transport.call(
      batchRoute,
      { steps: plans.map((plan) => plan.step) },
      dataCallOptions(context, 'batch()', options),
    );
    return answer.then(async ({ results }) => {
      if (results.length !== plans.length) {
        throw new ProtocolError(`batch(): ${plans.length} steps, but ${results.length} results came back.`, {
          code: 'invalid_response',
        });
      }
      return (await Promise.all(plans.map((plan, index) => plan.decode(results[index])))) as BatchResults<T>;
    });
  };
}
