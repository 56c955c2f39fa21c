import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../../src', import.meta.url));
const repository = 'accounts/users-repository.ts';

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|js|mjs|cjs|sql)$/.test(entry.name) ? [path] : [];
  });

// `plinth.users`, `"plinth"."users"`, `plinth . identities`…: any spelling PostgreSQL accepts.
const accountTables = /\bplinth"?\s*\.\s*"?(users|identities)\b/i;
const userCheck = /\bkind\s*[!=]==?\s*['"]user['"]/;

/** Files under src/ (relative) whose text matches `pattern`, with the first matching line. */
const filesMatching = (pattern: RegExp, under = src) =>
  sourceFiles(under).flatMap((file) => {
    const line = readFileSync(file, 'utf8')
      .split('\n')
      .find((text) => pattern.test(text));
    return line === undefined ? [] : [`${relative(src, file)}: ${line.trim()}`];
  });

describe('accounts in one place', () => {
  it('the scan sees the server’s sources and the repository itself', () => {
    expect(sourceFiles(src).length).toBeGreaterThan(50);
    expect(filesMatching(accountTables).map((hit) => hit.split(':')[0])).toContain(repository);
  });

  it('no file but the users repository names plinth.users or plinth.identities', () => {
    const elsewhere = filesMatching(accountTables).filter((hit) => !hit.startsWith(`${repository}:`));
    expect(elsewhere, 'move these statements into src/accounts/users-repository.ts').toEqual([]);
  });

  it('no handler checks for a signed-in user itself: they call requireUser', () => {
    // Handlers live in their feature's folder: every file that declares one is scanned.
    const handlerFiles = filesMatching(/\bdefineHandler\(/).map((hit) => hit.split(':')[0] as string);
    expect(handlerFiles.length).toBeGreaterThan(10);
    const checks = filesMatching(userCheck).filter((hit) => handlerFiles.includes(hit.split(':')[0] as string));
    expect(checks, 'use requireUser(caller) from src/http/require-user.ts').toEqual([]);
  });
});
