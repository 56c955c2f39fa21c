// Only the fields a caller set: an undefined would reach the query string as nothing anyway, but
// an object spread from elsewhere must not carry other keys to a strict route.
/**
 * The object without its undefined fields.
 *
 * @example
 * ```ts
 * definedOnly({ limit: 10, cursor: undefined }); // { limit: 10 }
 * ```
 */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
