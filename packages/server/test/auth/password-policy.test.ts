import { describe, expect, it } from 'vitest';
import { commonPasswords } from '../../src/auth/common-passwords.js';
import { checkPassword, maxPasswordLength, minPasswordLength } from '../../src/auth/password-policy.js';

describe('checkPassword length', () => {
  it('allows 8 to 256 code points', () => {
    expect(minPasswordLength).toBe(8);
    expect(maxPasswordLength).toBe(256);
    expect(checkPassword('zq7#mvkx')).toEqual({ ok: true });
    expect(checkPassword('zq7#mvkx'.repeat(32))).toEqual({ ok: true });
  });

  it('refuses 7 code points as too short', () => {
    expect(checkPassword('zq7#mvk')).toEqual({ ok: false, reason: 'too_short' });
    expect(checkPassword('')).toEqual({ ok: false, reason: 'too_short' });
  });

  it('refuses 257 code points as too long rather than cutting them', () => {
    expect(checkPassword(`${'zq7#mvkx'.repeat(32)}y`)).toEqual({ ok: false, reason: 'too_long' });
    expect(checkPassword('x'.repeat(1_000_000))).toEqual({ ok: false, reason: 'too_long' });
  });

  it('counts code points, not UTF-16 units or bytes', () => {
    // U+1F511 is two UTF-16 units and four UTF-8 bytes but one code point.
    const key = '\u{1F511}';
    expect(key.repeat(7).length).toBe(14);
    expect(checkPassword(key.repeat(7))).toEqual({ ok: false, reason: 'too_short' });
    expect(checkPassword(key.repeat(8))).toEqual({ ok: true });
    expect(checkPassword(key.repeat(256))).toEqual({ ok: true });
    expect(checkPassword(key.repeat(257))).toEqual({ ok: false, reason: 'too_long' });
  });

  it('counts the NFKC form, so a decomposed accent counts once', () => {
    const decomposed = 'e\u0301'.repeat(7); // 14 code points as typed, 7 once composed
    expect(checkPassword(decomposed)).toEqual({ ok: false, reason: 'too_short' });
    expect(checkPassword(`${decomposed}x`)).toEqual({ ok: true });
  });

  it('has no composition rules', () => {
    for (const password of ['alllowercaseletters', 'ALLUPPERCASELETTERS', '48291057362', 'many words with spaces']) {
      expect(checkPassword(password)).toEqual({ ok: true });
    }
  });
});

describe('checkPassword common passwords', () => {
  it.each(['password', 'iloveyou', '12345678', 'qwertyuiop', 'trustno1', 'starwars', 'football'])(
    'refuses %s',
    (password) => {
      expect(checkPassword(password)).toEqual({ ok: false, reason: 'common' });
    },
  );

  it('compares case-insensitively', () => {
    expect(checkPassword('PassWord1')).toEqual({ ok: false, reason: 'common' });
    expect(checkPassword('SUNSHINE')).toEqual({ ok: false, reason: 'common' });
  });

  it('compares after NFKC, so full-width look-alikes are caught', () => {
    expect(checkPassword('ｐａｓｓｗｏｒｄ')).toEqual({ ok: false, reason: 'common' });
  });

  it('refuses every entry of the list', () => {
    const missed = [...commonPasswords].filter((entry) => checkPassword(entry).ok);
    expect(missed).toEqual([]);
  });

  it('lets an uncommon passphrase through', () => {
    expect(checkPassword('correct horse battery staple')).toEqual({ ok: true });
  });
});

describe('commonPasswords', () => {
  it('holds at least 200 entries that the length rule alone would allow', () => {
    expect(commonPasswords.size).toBeGreaterThanOrEqual(200);
    const tooShort = [...commonPasswords].filter((entry) => [...entry].length < 8);
    expect(tooShort).toEqual([]);
  });

  it('is stored lower-case and NFKC-normalised, as checkPassword looks it up', () => {
    const unnormalised = [...commonPasswords].filter((entry) => entry !== entry.normalize('NFKC').toLowerCase());
    expect(unnormalised).toEqual([]);
  });
});

describe('checkPassword against the email', () => {
  const email = 'Ada.Lovelace@Example.com';

  it('refuses the email itself or its local part, whatever the letter case', () => {
    for (const password of ['ada.lovelace@example.com', 'ADA.LOVELACE@EXAMPLE.COM', 'Ada.Lovelace', 'ada.lovelace']) {
      expect(checkPassword(password, email)).toEqual({ ok: false, reason: 'matches_email' });
    }
  });

  it('compares after NFKC, so a full-width spelling of the local part is caught', () => {
    expect(checkPassword('ａｄａ.ｌｏｖｅｌａｃｅ', email)).toEqual({ ok: false, reason: 'matches_email' });
  });

  it('lets a password that only contains the email through', () => {
    expect(checkPassword('ada.lovelace and her engine', email)).toEqual({ ok: true });
    expect(checkPassword('ada.lovelace', 'someone.else@example.com')).toEqual({ ok: true });
  });

  it('checks nothing about the email when it is not given', () => {
    expect(checkPassword('ada.lovelace@example.com')).toEqual({ ok: true });
  });
});

describe('checkPassword characters', () => {
  it('refuses a password of whitespace only', () => {
    for (const password of [' '.repeat(8), '\u00a0'.repeat(10), ' \u2003 \u3000 \u2009  ']) {
      expect(checkPassword(password)).toEqual({ ok: false, reason: 'blank' });
    }
  });

  it('allows spaces inside a passphrase', () => {
    expect(checkPassword('  spaced   out   words  ')).toEqual({ ok: true });
  });

  it.each([
    ['NUL', '\u0000'],
    ['tab', '\t'],
    ['line feed', '\n'],
    ['escape', '\u001b'],
    ['DEL', '\u007f'],
    ['C1 next line', '\u0085'],
    ['C1 CSI', '\u009b'],
  ])('refuses a control character (%s)', (_name, control) => {
    expect(checkPassword(`correct horse${control}battery`)).toEqual({ ok: false, reason: 'control_character' });
  });

  it('refuses a whitespace-only password made of control characters as control characters', () => {
    expect(checkPassword('\t\n\t\n\t\n\t\n')).toEqual({ ok: false, reason: 'control_character' });
  });
});
