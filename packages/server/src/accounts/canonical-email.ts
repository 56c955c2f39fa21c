/**
 * The one form of an email address the server keys accounts by: trimmed, lower case, Unicode
 * NFC. Lookups, uniqueness, stored addresses, OAuth linking and the per-account rate limit all
 * use it, so `Ada@Example.com` and `ada@example.com` are one account and one rate-limit bucket.
 *
 * NFC, not NFKC: an address typed with a decomposed accent (`e` + U+0301) is the same address as
 * the composed one (`é`), but NFKC would also fold look-alikes (full-width letters, ligatures)
 * that mail systems deliver to different mailboxes, merging two people into one account. The
 * local part is lower-cased although RFC 5321 lets a server treat it case-sensitively: no
 * common provider does, and two accounts differing only by case are an impersonation risk.
 *
 * @example
 * ```ts
 * canonicalEmail(' Ada@Example.COM '); // 'ada@example.com'
 * canonicalEmail('Zoe\u0301@example.com') === canonicalEmail('Zoé@example.com'); // true
 * ```
 */
export function canonicalEmail(email: string): string {
  // Normalised last: lower-casing can decompose a character (İ becomes i + U+0307).
  return email.trim().toLowerCase().normalize('NFC');
}
