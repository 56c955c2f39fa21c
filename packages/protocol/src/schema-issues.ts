/** The parts of a schema issue (zod's or any Standard Schema's) that name what is wrong. */
export interface SchemaIssue {
  readonly path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> | undefined;
  readonly code?: string;
  readonly expected?: string;
  readonly format?: string;
  readonly message?: string;
  readonly minimum?: number | bigint;
  readonly maximum?: number | bigint;
  readonly values?: readonly unknown[];
  readonly keys?: readonly string[];
}

/**
 * The dotted path of the field an issue is about (`user.emails.0`), or `(root)`.
 *
 * @example
 * ```ts
 * issueField({ path: ['user', 'email'] }); // 'user.email'
 * ```
 */
export function issueField(issue: SchemaIssue): string {
  const parts = (issue.path ?? []).map((part) => String(typeof part === 'object' && part !== null ? part.key : part));
  return parts.length > 0 ? parts.join('.') : '(root)';
}

/**
 * Says in words what is wrong with a field. zod/mini ships no messages (they would cost bytes in
 * every browser bundle), so the wording is made here, once, for the SDK and the server alike.
 *
 * @example
 * ```ts
 * describeIssue({ path: ['email'], code: 'invalid_type', expected: 'string' });
 * // 'email: expected string'
 * ```
 */
export function describeIssue(issue: SchemaIssue): string {
  const field = issueField(issue);
  switch (issue.code) {
    case 'invalid_type':
      return `${field}: expected ${issue.expected ?? 'another type'}`;
    case 'invalid_format':
      return `${field}: not a valid ${issue.format ?? 'value'}`;
    case 'too_small':
      return `${field}: must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `${field}: must be at most ${String(issue.maximum)}`;
    case 'invalid_value':
      return `${field}: must be one of ${(issue.values ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `${field}: unexpected key(s) ${(issue.keys ?? []).join(', ')}`;
    default:
      return `${field}: ${issue.message && issue.message !== 'Invalid input' ? issue.message : 'invalid value'}`;
  }
}
