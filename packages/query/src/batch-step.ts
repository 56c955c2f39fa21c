import type { QueryRequest, SqlRequest } from '@plinth/protocol';

/** One step of `POST /v1/batch`, as sent. */
export type WireStep = { kind: 'query'; query: QueryRequest } | { kind: 'sql'; sql: SqlRequest };

/** The key under which queries and statements describe themselves to `batch()`. */
export const toBatchStep: unique symbol = Symbol('plinth.batchStep');

/** What a query or statement gives `batch()`: its wire step, and how to read its answer. */
export interface BatchStepPlan<Result> {
  readonly step: WireStep;
  /**
   * The client it was built on: its act-as value, or `null` for a plain `sql` fragment, which
   * belongs to no client and joins any batch.
   */
  readonly scope: { readonly actAs: string | undefined } | null;
  /** Turns this step's entry of the batch's `results` into what awaiting the step would give. */
  decode(answer: unknown): Promise<Result>;
}

/**
 * Anything `batch()` takes: a query builder or a `sql` statement, not yet run. `Result` is what
 * the step's entry in the batch's results will be.
 */
export interface BatchStep<Result> {
  /** Checks the step (an unscoped change is refused here) and plans it. Internal to the SDK. */
  [toBatchStep](): BatchStepPlan<Result>;
}

/** What a step gives in a batch's results. */
export type BatchResult<T> = T extends BatchStep<infer R> ? R : never;
