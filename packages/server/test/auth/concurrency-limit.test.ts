import { describe, expect, it } from 'vitest';
import { createConcurrencyLimit } from '../../src/auth/concurrency-limit.js';

/** A promise the test settles by hand, so the order of events is fixed rather than timed. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued promise callback run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('createConcurrencyLimit', () => {
  it('runs at most `max` tasks at once and starts the rest in arrival order as slots free', async () => {
    const limit = createConcurrencyLimit(2);
    const gates = Array.from({ length: 5 }, () => deferred());
    const started: number[] = [];
    const results = gates.map((gate, index) =>
      limit.run(async () => {
        started.push(index);
        await gate.promise;
        return index;
      }),
    );

    await flush();
    expect(started).toEqual([0, 1]);
    expect(limit.active).toBe(2);
    expect(limit.waiting).toBe(3);

    gates[1]?.resolve();
    await flush();
    expect(started).toEqual([0, 1, 2]);
    expect(limit.active).toBe(2);

    for (const gate of gates) gate.resolve();
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(limit.active).toBe(0);
    expect(limit.waiting).toBe(0);
  });

  it('frees the slot when a task fails and passes the failure to its caller', async () => {
    const limit = createConcurrencyLimit(1);
    const failing = limit.run(() => Promise.reject(new Error('boom')));
    const next = limit.run(() => Promise.resolve('ran'));
    await expect(failing).rejects.toThrow('boom');
    expect(await next).toBe('ran');
    expect(limit.active).toBe(0);
  });

  it('frees the slot when a task throws synchronously', async () => {
    const limit = createConcurrencyLimit(1);
    const failing = limit.run(() => {
      throw new Error('sync boom');
    });
    await expect(failing).rejects.toThrow('sync boom');
    expect(await limit.run(() => Promise.resolve('ran'))).toBe('ran');
  });

  it('counts a slot handed to a waiter as taken, so a newcomer waits instead of exceeding the cap', async () => {
    const limit = createConcurrencyLimit(1);
    const gates = [deferred(), deferred()];
    const started: string[] = [];
    const track = (name: string, gate?: Promise<void>) =>
      limit.run(async () => {
        started.push(name);
        await gate;
      });
    const a = track('a', gates[0]?.promise);
    const b = track('b', gates[1]?.promise);

    gates[0]?.resolve();
    await a;
    await flush();
    expect(started).toEqual(['a', 'b']);
    expect(limit.active).toBe(1);

    const c = track('c');
    await flush();
    expect(started).toEqual(['a', 'b']);
    expect(limit.waiting).toBe(1);

    gates[1]?.resolve();
    await Promise.all([b, c]);
    expect(started).toEqual(['a', 'b', 'c']);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a limit of %s', (max) => {
    expect(() => createConcurrencyLimit(max)).toThrow(RangeError);
  });
});
