import { HttpError } from '../http/http-error.js';

// Each data call is one transaction that the server opens, sets up (role, claims, timeout) and
// closes. A statement that ends it early (COMMIT), opens its own, or changes the session's
// settings would run the rest of the call, or later calls on the same connection, outside that
// set-up; so those are refused before they run.
const controlKeywords =
  /^(begin|start|commit|end|rollback|abort|savepoint|release|prepare\s+transaction|set|reset|discard|listen|unlisten)\b/i;

// Code that the app's SQL would bring along and run: a DO block or a new function or procedure
// (in pg_temp, which every role may use) could `SET ROLE` from inside, where the check above
// never looks, to any role the connection's session user may take. The app's own functions
// belong in its schema files, which run as plinth_owner.
const codeKeywords = /^(do|create(?:\s+or\s+replace)?\s+(?:function|procedure))\b/i;

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
 * Refuses transaction and session control (`BEGIN`, `COMMIT`, `SET`, `RESET`, `DISCARD`, …) and
 * code brought along to run (`DO`, `CREATE FUNCTION`, `CREATE PROCEDURE`) in a raw statement,
 * with a 400 that says what to do instead.
 *
 * @example
 * ```ts
 * refuseSessionControl('select 1');   // fine
 * refuseSessionControl('COMMIT');     // throws HttpError validation_failed
 * ```
 */
export function refuseSessionControl(text: string): void {
  const leading = leadingText(text);
  const control = controlKeywords.exec(leading)?.[1];
  if (control !== undefined) {
    const keyword = control.toUpperCase();
    throw new HttpError(
      'validation_failed',
      `text: ${keyword} is not allowed; every call already runs in one transaction (send several statements as steps of POST /v1/batch), with its role, claims and statement timeout set by the server.`,
      { field: 'text', keyword },
    );
  }
  const code = codeKeywords.exec(leading)?.[1];
  if (code !== undefined) {
    const keyword = code.toUpperCase().replace(/\s+/g, ' ');
    throw new HttpError(
      'validation_failed',
      `text: ${keyword} is not allowed in /v1/sql or a batch step; define functions and procedures in the app's schema files (they run as plinth_owner), and call them here.`,
      { field: 'text', keyword },
    );
  }
}
