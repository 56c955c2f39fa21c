import { readFileSync } from 'node:fs';
import { clientErrorCodes, serverErrorCodes } from '@plinth/protocol';
import { describe, expect, it } from 'vitest';

const errorsDoc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

describe('docs/errors.md', () => {
  it('documents every stable error code, with its status for server codes', () => {
    for (const [code, { status }] of Object.entries(serverErrorCodes)) {
      expect(errorsDoc).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`));
    }
    for (const code of Object.keys(clientErrorCodes))
      expect(errorsDoc).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|`));
  });
});
