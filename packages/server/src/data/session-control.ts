import { HttpError } from '../http/http-error.js';

// Each data call is one transaction that the server opens, sets up (role, claims, timeout) and
// closes. A statement that ends it early (COMMIT), opens its own, or changes the session's
// settings would run the rest of the call, or later calls on the same connection, outside that
// set-up; so those are refused before they run.
const controlKeywords =
  /^(begin|start|commit|end|rollback|abort|savepoint|release|prepare\s+transaction|set|reset|discard|listen|unlisten)\b/i;

/** The statement's text without leading whitespace, comments and opening parentheses. */
function leadingText(text: string): string {
  let rest = text;
  for (;;) {
    const trimmed = rest.replace(/^[\s(]+/, '');
    if (trimmed.startsWith('--')) {
      const end = trimmed.indexOf('\n');
      rest = end < 0 ? '' : trimmed.slice(end + 1);
    } else if (trimmed.startsWith('/*')) {
      const end = trimmed.indexOf('*/');
      rest = end < 0 ? '' : trimmed.slice(end + 2);
    } else {
      return trimmed;
    }
  }
}

/**
 * Refuses transaction and session control (`BEGIN`, `COMMIT`, `SET`, `RESET`, `DISCARD`, …) in a
 * raw statement with a 400 that says what to do instead.
 *
 * @example
 * ```ts
 * refuseSessionControl('select 1');   // fine
 * refuseSessionControl('COMMIT');     // throws HttpError validation_failed
 * ```
 */
export function refuseSessionControl(text: string): void {
  const keyword = controlKeywords.exec(leadingText(text))?.[1];
  if (keyword === undefined) return;
  throw new HttpError(
    'validation_failed',
    `text: ${keyword.toUpperCase()} is not allowed; every call already runs in one transaction (send several statements as steps of POST /v1/batch), and per-call settings go through set_config(name, value, true) in a SELECT.`,
    { field: 'text', keyword: keyword.toUpperCase() },
  );
}
