import { jsonDepthProblem, maxJsonDepth } from '@plinth/protocol';
import { describe, expect, it } from 'vitest';

const nested = (depth: number, wrap: (inner: unknown) => unknown, inner: unknown = 1): unknown => {
  let value = inner;
  for (let i = 0; i < depth; i++) value = wrap(value);
  return value;
};

describe('jsonDepthProblem', () => {
  it('accepts values up to the depth, the outermost object or array counting as one', () => {
    expect(jsonDepthProblem(nested(maxJsonDepth, (v) => [v]))).toBeUndefined();
    expect(jsonDepthProblem({ a: 1, b: [1, { c: null }] }, 3)).toBeUndefined();
    expect(jsonDepthProblem('text')).toBeUndefined();
    expect(jsonDepthProblem(null)).toBeUndefined();
  });

  it('names the dotted path of the first object or array past the depth', () => {
    expect(jsonDepthProblem(nested(maxJsonDepth + 1, (v) => [v]))).toBe(Array(maxJsonDepth).fill('0').join('.'));
    expect(jsonDepthProblem({ where: { not: { not: { column: 'a' } } } }, 3)).toBe('where.not.not');
    expect(jsonDepthProblem({ ok: [1, 2], steps: [{ query: { where: { and: [{}] } } }] }, 5)).toBe(
      'steps.0.query.where.and',
    );
  });

  it('walks a million levels without recursion', () => {
    const text = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;
    expect(jsonDepthProblem(JSON.parse(text))?.split('.')).toHaveLength(maxJsonDepth);
  });
});
