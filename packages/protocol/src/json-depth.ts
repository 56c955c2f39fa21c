/**
 * How deep a request body may nest objects and arrays, the body itself counting as one. Far
 * more than a real request needs (a `where` 32 conditions deep in a batch step is about 70), and
 * little enough that no check, compiler or database ever recurses dangerously on a body.
 */
export const maxJsonDepth = 128;

interface Frame {
  readonly value: object;
  readonly depth: number;
  readonly parent: Frame | undefined;
  readonly key: string;
}

/**
 * The dotted path (`where.and.0.not`, as schema issues name fields) of the first object or
 * array nested deeper than `maxDepth`, or `undefined` when the value is shallow enough. It walks
 * the value with its own stack, never recursion, so it is safe on any parsed JSON: run it before
 * anything that recurses, such as a schema check.
 *
 * @example
 * ```ts
 * jsonDepthProblem({ where: { not: { not: {} } } }, 3); // 'where.not.not'
 * jsonDepthProblem({ where: { column: 'id', op: 'eq', value: 1 } }); // undefined
 * ```
 */
export function jsonDepthProblem(value: unknown, maxDepth: number = maxJsonDepth): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  // The common case, a body within the limit, allocates only the two stacks; the path is worked
  // out by a second walk, and only for a body that is refused.
  const values: object[] = [value];
  const depths: number[] = [1];
  while (values.length > 0) {
    const node = values.pop() as Record<string, unknown>;
    const depth = depths.pop() as number;
    if (depth > maxDepth) return pathOfTooDeep(value, maxDepth);
    const children = Array.isArray(node) ? (node as unknown[]) : Object.values(node);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) {
        values.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return undefined;
}

/** The path of the first object or array past `maxDepth`, walking in the same order. */
function pathOfTooDeep(value: object, maxDepth: number): string {
  const stack: Frame[] = [{ value, depth: 1, parent: undefined, key: '' }];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    if (frame.depth > maxDepth) return pathOf(frame);
    const node = frame.value as Record<string, unknown>;
    const keys = Array.isArray(node) ? undefined : Object.keys(node);
    const count = keys ? keys.length : (node as unknown as unknown[]).length;
    for (let i = 0; i < count; i++) {
      const key = keys ? (keys[i] as string) : String(i);
      const child = node[key];
      if (typeof child === 'object' && child !== null)
        stack.push({ value: child, depth: frame.depth + 1, parent: frame, key });
    }
  }
  return '(root)';
}

function pathOf(frame: Frame): string {
  const keys: string[] = [];
  for (let at: Frame | undefined = frame; at?.parent !== undefined; at = at.parent) keys.push(at.key);
  return keys.reverse().join('.') || '(root)';
}
