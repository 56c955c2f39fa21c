import { type Condition, type FilterOperator, filterOperators } from '@plinth/protocol';
import { columnValueText, elementValueText, listLiteral } from '../data/column-values.js';
import type { ColumnInfo } from '../data/schema-introspection.js';
import { HttpError } from '../http/http-error.js';

// A realtime ticket's `where` is checked against every changed row in memory: a database read per
// subscriber per event would not scale. The answer must still be PostgreSQL's for the statement
// the query compiler (data/query-compiler.ts) would emit, so this file mirrors that compiler's
// checks (its refusals, messages and `field` paths, by calling the same column-values helpers)
// and PostgreSQL's semantics: three-valued logic, numeric equality across representations,
// timestamptz as instants, LIKE's escapes, `= ANY`/`<> ALL` with NULLs, `@>`/`<@`, and jsonb's
// own ordering. Rows are what `to_jsonb(row)` gives. Where JavaScript cannot give PostgreSQL's
// answer, the condition is refused up front (a 400 naming the field) rather than answered wrongly;
// the few places it cannot even tell are listed on {@link compileRowFilter}.

/** SQL's three truth values: `null` is unknown. */
type Truth = boolean | null;
type Row = Readonly<Record<string, unknown>>;
type Evaluate = (row: Row) => Truth;

/** A compiled filter: true only when the whole condition is true for `row` (a `to_jsonb(row)` object). */
export type RowFilter = (row: unknown) => boolean;

/** How a filter treats what the schema snapshot does not say: the text columns' locale. */
export interface RowFilterOptions {
  /**
   * How `ilike` lower-cases both sides, after the text columns' LC_CTYPE. `'unicode'` (the
   * default) lower-cases each code point by Unicode's simple mapping, as PostgreSQL's `lower()`
   * does under a UTF-8 libc or builtin locale (PGlite's `C.UTF-8`, `en_US.UTF-8`, `pg_c_utf8`).
   * `'ascii'` lower-cases only A–Z, as under `COLLATE "C"` or a database whose ctype is C/POSIX.
   */
  readonly ilikeCase?: 'unicode' | 'ascii';
}

/** The query compiler's nesting limit. */
const maxConditionDepth = 32;
/** The wire schema's limit on one `and`/`or`. */
const maxBranches = 64;
/**
 * Conditions in all. JSON cannot share a subtree, but an object built in code can, and a filter
 * runs for every event: a shared subtree nested 32 deep would be evaluated 2^32 times.
 */
const maxNodes = 10_000;
/** PostgreSQL's limit on array dimensions. */
const maxArrayDimensions = 6;

const refuse = (field: string, message: string, details: Record<string, unknown> = {}): never => {
  throw new HttpError('validation_failed', `${field}: ${message}`, { field, ...details });
};

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

// ---------------------------------------------------------------------------------------------
// Text

// UTF-16 puts astral code points (as surrogates, U+D800–DFFF) below U+E000–FFFF; UTF-8 byte
// order, PostgreSQL's "C" order, puts them above. Ranking the first differing code unit this way
// orders strings by code point.
const unitRank = (unit: number) =>
  unit >= 0xd800 && unit <= 0xdfff ? unit + 0x2000 : unit >= 0xe000 ? unit - 0x800 : unit;

/** Orders strings by code point: PostgreSQL's order under `COLLATE "C"` (UTF-8 bytes). */
function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return unitRank(x) < unitRank(y) ? -1 : 1;
  }
  return a.length < b.length ? -1 : 1;
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const point = char.codePointAt(0) as number;
    bytes += point < 0x80 ? 1 : point < 0x800 ? 2 : point < 0x10000 ? 3 : 4;
  }
  return bytes;
}

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Refuses text PostgreSQL cannot hold, so that no value here differs from the one it would see. */
function checkText(text: string, field: string): string {
  if (text.includes('\u0000')) refuse(field, 'PostgreSQL text cannot hold the character U+0000; remove it.');
  if (loneSurrogate.test(text)) {
    refuse(field, 'the text holds an unpaired UTF-16 surrogate, which is not Unicode; send well-formed text.');
  }
  return text;
}

const asciiOnly = /^\p{ASCII}*$/u;

/** `lower()` under a C/POSIX ctype: A–Z only. */
const lowerAscii = (text: string) => text.replace(/[A-Z]+/g, (run) => run.toLowerCase());

/**
 * `lower()` under a UTF-8 libc or builtin ctype: each code point on its own, by Unicode's simple
 * mapping. `toLowerCase` on the whole string would apply the full, contextual mapping instead
 * (final sigma, U+0130 to two code points), which PostgreSQL's libc path does not.
 */
function lowerUnicode(text: string): string {
  if (asciiOnly.test(text)) return text.toLowerCase();
  let out = '';
  for (const char of text) {
    if (char === '\u0130') {
      out += 'i'; // The simple mapping; the full one is "i̇".
      continue;
    }
    const lower = char.toLowerCase();
    out += [...lower].length === 1 ? lower : char;
  }
  return out;
}

/** One step of a LIKE pattern: a code point, or `_` (any one). */
type LikeStep = number;
const anyOne = -1;

/**
 * A LIKE pattern, compiled: the steps between `%`s. Matched by a scan that commits to the leftmost
 * fit of each middle piece, which is exact for `%`/`_` patterns and linear in pieces × text; a
 * RegExp of `.*`s would backtrack exponentially on a hostile pattern, on the event loop.
 */
function compileLike(pattern: string, field: string): (text: string) => boolean {
  const pieces: LikeStep[][] = [[]];
  const points = Array.from(pattern, (char) => char.codePointAt(0) as number);
  for (let i = 0; i < points.length; i++) {
    const point = points[i] as number;
    const current = pieces[pieces.length - 1] as LikeStep[];
    if (point === 0x5c) {
      // PostgreSQL raises this only when a row reaches the end of the pattern, so the same ticket
      // would fail on some rows and not others; refused here, for every row.
      if (i + 1 >= points.length) {
        refuse(field, 'the pattern ends with the escape character \\; write \\\\ to match a backslash.');
      }
      current.push(points[++i] as number);
    } else if (point === 0x25) {
      pieces.push([]);
    } else {
      current.push(point === 0x5f ? anyOne : point);
    }
  }
  const fits = (text: readonly number[], at: number, piece: readonly LikeStep[]) => {
    for (let j = 0; j < piece.length; j++) {
      const step = piece[j] as number;
      if (step !== anyOne && step !== text[at + j]) return false;
    }
    return true;
  };
  const first = pieces[0] as LikeStep[];
  if (pieces.length === 1) {
    return (value) => {
      const text = Array.from(value, (char) => char.codePointAt(0) as number);
      return text.length === first.length && fits(text, 0, first);
    };
  }
  const last = pieces[pieces.length - 1] as LikeStep[];
  const middle = pieces.slice(1, -1).filter((piece) => piece.length > 0);
  return (value) => {
    const text = Array.from(value, (char) => char.codePointAt(0) as number);
    const end = text.length - last.length;
    if (end < first.length || !fits(text, 0, first) || !fits(text, end, last)) return false;
    let at = first.length;
    for (const piece of middle) {
      let found = -1;
      for (let i = at; i + piece.length <= end; i++) {
        if (fits(text, i, piece)) {
          found = i;
          break;
        }
      }
      if (found < 0) return false;
      at = found + piece.length;
    }
    return true;
  };
}

// ---------------------------------------------------------------------------------------------
// Numbers

/** An exact decimal: NaN, ±Infinity, or sign × 0.digits × 10^point (digits without leading or trailing zeros). */
type Decimal =
  | { readonly kind: 'nan' }
  | { readonly kind: 'infinity'; readonly sign: 1 | -1 }
  | { readonly kind: 'finite'; readonly sign: -1 | 0 | 1; readonly digits: string; readonly point: number };

const decimalText = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const specialText = /^([+-]?)(NaN|Infinity)$/;

function parseDecimal(text: string): Decimal | undefined {
  const special = specialText.exec(text);
  if (special) return special[2] === 'NaN' ? { kind: 'nan' } : { kind: 'infinity', sign: special[1] === '-' ? -1 : 1 };
  const match = decimalText.exec(text);
  if (!match) return undefined;
  const whole = match[2] ?? '';
  const fraction = match[3] ?? '';
  if (whole === '' && fraction === '') return undefined;
  const all = whole + fraction;
  const lead = all.search(/[1-9]/);
  if (lead < 0) return { kind: 'finite', sign: 0, digits: '', point: 0 };
  let end = all.length;
  while (all.charCodeAt(end - 1) === 0x30) end--;
  return {
    kind: 'finite',
    sign: match[1] === '-' ? -1 : 1,
    digits: all.slice(lead, end),
    point: whole.length + (match[4] ? Number(match[4]) : 0) - lead,
  };
}

/** PostgreSQL's numeric order: -Infinity, the finite values, Infinity, then NaN (equal to itself). */
const decimalRank = (value: Decimal) => (value.kind === 'nan' ? 2 : value.kind === 'infinity' ? value.sign : 0);

function compareDecimal(a: Decimal, b: Decimal): number {
  const ra = decimalRank(a);
  const rb = decimalRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (a.kind !== 'finite' || b.kind !== 'finite') return 0;
  if (a.sign !== b.sign) return a.sign < b.sign ? -1 : 1;
  if (a.sign === 0) return 0;
  // Same sign: the magnitude decides, by the position of the point, then digit by digit.
  const magnitude =
    a.point !== b.point ? (a.point < b.point ? -1 : 1) : a.digits === b.digits ? 0 : a.digits < b.digits ? -1 : 1;
  return magnitude * a.sign;
}

const decimalKey = (value: Decimal) =>
  value.kind === 'nan'
    ? 'NaN'
    : value.kind === 'infinity'
      ? `${value.sign}Infinity`
      : value.sign === 0
        ? '0'
        : `${value.sign}.${value.digits}e${value.point}`;

// ---------------------------------------------------------------------------------------------
// Dates and times

/** A day or an instant: seconds since 1970-01-01 (UTC) plus microseconds, or ±infinity. */
interface Moment {
  readonly infinite: -1 | 0 | 1;
  readonly seconds: number;
  readonly micros: number;
}

const isLeapYear = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days since 1970-01-01 of a proleptic Gregorian date (astronomical year: 1 BC is 0), or undefined if no such day. */
function dayNumber(year: number, month: number, day: number): number | undefined {
  if (month < 1 || month > 12 || day < 1) return undefined;
  if (day > (month === 2 && isLeapYear(year) ? 29 : (monthDays[month - 1] as number))) return undefined;
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * ((month + 9) % 12) + 2) / 5) + day - 1;
  return era * 146097 + yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear - 719468;
}

const infinity = (sign: -1 | 1): Moment => ({ infinite: sign, seconds: 0, micros: 0 });

function compareMoment(a: Moment, b: Moment): number {
  if (a.infinite !== b.infinite) return a.infinite < b.infinite ? -1 : 1;
  if (a.infinite !== 0 || (a.seconds === b.seconds && a.micros === b.micros)) return 0;
  if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
  return a.micros < b.micros ? -1 : 1;
}

const momentKey = (value: Moment) =>
  value.infinite !== 0 ? `${value.infinite}inf` : `${value.seconds}.${value.micros}`;

/** `+05`, `+0530`, `+05:30`, `+05:30:15` or `Z` in seconds east of UTC; undefined past PostgreSQL's ±15:59:59. */
function offsetSeconds(text: string): number | undefined {
  if (text === 'Z' || text === 'z') return 0;
  const match = /^([+-])(\d\d)(?::?(\d\d)(?::(\d\d))?)?$/.exec(text);
  if (!match) return undefined;
  const [hours, minutes, seconds] = [Number(match[2]), Number(match[3] ?? 0), Number(match[4] ?? 0)];
  if (hours > 15 || minutes > 59 || seconds > 59) return undefined;
  return (match[1] === '-' ? -1 : 1) * (hours * 3600 + minutes * 60 + seconds);
}

const momentOf = (days: number, h: number, m: number, s: number, fraction: string | undefined, offset: number) => ({
  infinite: 0 as const,
  seconds: days * 86400 + h * 3600 + m * 60 + s - offset,
  micros: fraction ? Number(fraction.padEnd(6, '0')) : 0,
});

// What to_jsonb writes: ISO with `T`, up to 6 fractional digits, an offset for timestamptz (the
// session's zone, with seconds for historical zones), years past 9999, and " BC".
const rowTimestamp =
  /^(\d{4,})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d(?::?\d\d(?::\d\d)?)?)?( BC)?$/;
const rowDate = /^(\d{4,})-(\d\d)-(\d\d)( BC)?$/;

function rowMoment(value: unknown, withZone: boolean): Moment | undefined {
  if (typeof value !== 'string') return undefined;
  if (value === 'infinity') return infinity(1);
  if (value === '-infinity') return infinity(-1);
  const match = rowTimestamp.exec(value);
  if (!match || (match[8] !== undefined) !== withZone) return undefined;
  const year = Number(match[1]);
  const days = dayNumber(match[9] ? 1 - year : year, Number(match[2]), Number(match[3]));
  const offset = match[8] === undefined ? 0 : offsetSeconds(match[8]);
  if (days === undefined || offset === undefined) return undefined;
  return momentOf(days, Number(match[4]), Number(match[5]), Number(match[6]), match[7], offset);
}

function rowDay(value: unknown): Moment | undefined {
  if (typeof value !== 'string') return undefined;
  if (value === 'infinity') return infinity(1);
  if (value === '-infinity') return infinity(-1);
  const match = rowDate.exec(value);
  if (!match) return undefined;
  const year = Number(match[1]);
  const days = dayNumber(match[4] ? 1 - year : year, Number(match[2]), Number(match[3]));
  return days === undefined ? undefined : { infinite: 0, seconds: days, micros: 0 };
}

const infinityText = /^[+-]?infinity$/i;

// A strict subset of what PostgreSQL reads: ISO 8601, years 0001–9999, at most microseconds.
const valueTimestamp =
  /^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?(Z|z|[+-]\d\d(?::?\d\d(?::\d\d)?)?)?$/;

function valueMoment(text: string, column: ColumnInfo, field: string): Moment {
  if (infinityText.test(text)) return infinity(text.startsWith('-') ? -1 : 1);
  const withZone = column.type === 'timestamptz';
  const example = withZone ? '2026-01-31T09:30:00Z or 2026-01-31T09:30:00.250+02:00' : '2026-01-31T09:30:00.250';
  const bad = (why: string): never =>
    refuse(field, `${why} Send ISO 8601 such as ${example}, or 'infinity' / '-infinity'.`, {
      column: column.name,
      type: column.type,
    });
  const match = valueTimestamp.exec(text);
  if (!match) return bad(`"${column.name}" is ${column.type}, and realtime filters read only ISO 8601 timestamps.`);
  if (withZone && match[8] === undefined) {
    bad(`a ${column.type} value needs an explicit offset: without one PostgreSQL reads it in the server's time zone.`);
  }
  if (!withZone && match[8] !== undefined) {
    bad(`"${column.name}" is ${column.type} (without time zone), and PostgreSQL ignores an offset on it.`);
  }
  if ((match[7]?.length ?? 0) > 6) bad('timestamps keep microseconds; send at most 6 fractional digits.');
  const [hours, minutes, seconds] = [Number(match[4]), Number(match[5]), Number(match[6] ?? 0)];
  const days = dayNumber(Number(match[1]), Number(match[2]), Number(match[3]));
  const offset = match[8] === undefined ? 0 : offsetSeconds(match[8]);
  if (Number(match[1]) < 1 || days === undefined) bad('no such date.');
  if (hours > 23 || minutes > 59 || seconds > 59) bad('no such time of day (hours 00–23, minutes and seconds 00–59).');
  if (offset === undefined) bad('the offset is out of range (at most ±15:59:59).');
  return momentOf(days as number, hours, minutes, seconds, match[7], offset as number);
}

function valueDay(text: string, column: ColumnInfo, field: string): Moment {
  if (infinityText.test(text)) return infinity(text.startsWith('-') ? -1 : 1);
  const match = /^(\d{4})-(\d\d)-(\d\d)$/.exec(text);
  const days = match ? dayNumber(Number(match[1]), Number(match[2]), Number(match[3])) : undefined;
  if (!match || Number(match[1]) < 1 || days === undefined) {
    refuse(field, `"${column.name}" is date; send an ISO 8601 date such as 2026-01-31, or 'infinity' / '-infinity'.`, {
      column: column.name,
      type: column.type,
    });
  }
  return { infinite: 0, seconds: days as number, micros: 0 };
}

// ---------------------------------------------------------------------------------------------
// jsonb

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isJsonObject = (value: Json): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isContainer = (value: Json): value is Json[] | JsonObject => typeof value === 'object' && value !== null;

/** A value JSON can carry: what a row from to_jsonb holds. */
function isJson(value: unknown, depth = 0): value is Json {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (depth > 1000) return false;
  if (Array.isArray(value)) return value.every((item) => isJson(item, depth + 1));
  return isPlainObject(value) && Object.values(value).every((item) => isJson(item, depth + 1));
}

/** jsonb's type order: null < string < number < boolean < array < object. */
const jsonRank = (value: Json) =>
  value === null
    ? 0
    : typeof value === 'string'
      ? 1
      : typeof value === 'number'
        ? 2
        : typeof value === 'boolean'
          ? 3
          : Array.isArray(value)
            ? 4
            : 5;

/** jsonb stores an object's keys shortest first, then by bytes, and compares objects in that order. */
const storedKeys = (object: JsonObject) =>
  Object.keys(object)
    .map((key) => ({ key, bytes: utf8Length(key) }))
    .sort((a, b) => a.bytes - b.bytes || compareText(a.key, b.key))
    .map((entry) => entry.key);

/**
 * jsonb's btree order (compareJsonbContainers): a walk of both values that stops at the first
 * difference. At the top, a scalar is a one-element "raw scalar" array, and (kept by PostgreSQL
 * for on-disk compatibility) an array's length outranks being raw, so `[]` sorts below every
 * scalar, `null` included. Numbers from JSON are doubles, whose order is that of their decimals.
 */
function compareJsonb(a: Json, b: Json, aRaw = false, bRaw = false): number {
  const ra = jsonRank(a);
  const rb = jsonRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0:
      return 0;
    case 1:
      return compareText(a as string, b as string);
    case 2:
      return a === b ? 0 : (a as number) < (b as number) ? -1 : 1;
    case 3:
      return a === b ? 0 : a ? 1 : -1;
    case 4: {
      const [x, y] = [a as Json[], b as Json[]];
      let order = aRaw !== bRaw ? (aRaw ? -1 : 1) : 0;
      if (x.length !== y.length) order = x.length > y.length ? 1 : -1;
      for (let i = 0; order === 0 && i < x.length; i++) order = compareJsonb(x[i] as Json, y[i] as Json);
      return order;
    }
    default: {
      const [x, y] = [a as JsonObject, b as JsonObject];
      const [xKeys, yKeys] = [storedKeys(x), storedKeys(y)];
      if (xKeys.length !== yKeys.length) return xKeys.length > yKeys.length ? 1 : -1;
      for (let i = 0; i < xKeys.length; i++) {
        const [xKey, yKey] = [xKeys[i] as string, yKeys[i] as string];
        const order = compareText(xKey, yKey) || compareJsonb(x[xKey] as Json, y[yKey] as Json);
        if (order !== 0) return order;
      }
      return 0;
    }
  }
}

const compareJsonbTop = (a: Json, b: Json) =>
  compareJsonb(isContainer(a) ? a : [a], isContainer(b) ? b : [b], !isContainer(a), !isContainer(b));

/** A canonical text for jsonb equality: keys sorted, numbers by value. */
function jsonKey(value: Json): string {
  if (value === null) return 'n';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return String(value); // -0 is "0", as jsonb has it.
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (Array.isArray(value)) return `[${value.map(jsonKey).join(',')}]`;
  return `{${Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${jsonKey(value[key] as Json)}`)
    .join(',')}}`;
}

/** jsonb `@>` (JsonbDeepContains) at the top: an array may contain a raw scalar; a raw scalar contains only a scalar. */
function jsonbContains(a: Json, b: Json): boolean {
  if (isContainer(a) && isContainer(b)) return containerContains(a, b);
  if (isJsonObject(a) || isJsonObject(b)) return false;
  if (!Array.isArray(a) && Array.isArray(b)) return false;
  return arrayContains(Array.isArray(a) ? a : [a], Array.isArray(b) ? b : [b]);
}

function containerContains(a: Json[] | JsonObject, b: Json[] | JsonObject): boolean {
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  return Array.isArray(a) ? arrayContains(a, b as Json[]) : objectContains(a, b as JsonObject);
}

/** Every pair of `b` is in `a`: scalars equal, containers contained, no crossing between the two. */
function objectContains(a: JsonObject, b: JsonObject): boolean {
  const keys = Object.keys(b);
  if (Object.keys(a).length < keys.length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(a, key)) return false;
    const [x, y] = [a[key] as Json, b[key] as Json];
    if (isContainer(x) !== isContainer(y)) return false;
    if (isContainer(x) ? !containerContains(x, y as Json[] | JsonObject) : x !== y) return false;
  }
  return true;
}

/** Every element of `b` is in `a`: a scalar equal to one of `a`'s scalars, a container contained in one of its containers. */
function arrayContains(a: readonly Json[], b: readonly Json[]): boolean {
  return b.every((y) =>
    isContainer(y)
      ? a.some((x) => isContainer(x) && containerContains(x, y))
      : a.some((x) => !isContainer(x) && x === y),
  );
}

/** Refuses what jsonb's input refuses: \u0000 and unpaired surrogates, in keys or values. */
function checkJsonText(value: Json, field: string): Json {
  if (typeof value === 'string') checkText(value, field);
  else if (Array.isArray(value)) for (const item of value) checkJsonText(item, field);
  else if (isJsonObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      checkText(key, field);
      checkJsonText(item, field);
    }
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Column kinds

/** What a filter needs of a column's type: its values from a row and from a condition, an order and an equality. */
interface Kind<T> {
  /** The value in a `to_jsonb` row; undefined when the row holds something else (the test is then unknown). */
  fromRow(value: unknown): T | undefined;
  /** The value of a condition (never null), checked as the query compiler checks it, then as PostgreSQL would read it. */
  fromValue(value: unknown, field: string): T;
  /** PostgreSQL's btree order; undefined when it cannot be known here. */
  compare(a: T, b: T): number | undefined;
  /** Equal keys exactly when PostgreSQL's `=` is true. */
  key(value: T): string;
}

type AnyKind = Kind<unknown>;

/** A kind whose condition values are the text the query compiler binds (elementValueText). */
function scalarKind<T>(
  column: ColumnInfo,
  kind: Omit<Kind<T>, 'fromValue'> & { fromText(text: string, field: string): T },
): AnyKind {
  return {
    fromRow: kind.fromRow,
    fromValue: (value, field) => kind.fromText(elementValueText(value, column, field) as string, field),
    compare: kind.compare as AnyKind['compare'],
    key: kind.key as AnyKind['key'],
  };
}

const integerTypes = new Set(['int2', 'int4', 'int8']);

function decimalKind(column: ColumnInfo): AnyKind {
  return scalarKind<Decimal>(column, {
    fromRow: (value) =>
      typeof value === 'number'
        ? Number.isFinite(value)
          ? parseDecimal(String(value))
          : undefined
        : typeof value === 'string'
          ? parseDecimal(value)
          : typeof value === 'bigint'
            ? parseDecimal(value.toString())
            : undefined,
    fromText(text, field) {
      const parsed = parseDecimal(text);
      // The compiler's pattern lets "+NaN" and "-NaN" through; numeric's input refuses them.
      if (
        !parsed ||
        (parsed.kind === 'nan' && text !== 'NaN') ||
        (parsed.kind === 'infinity' && integerTypes.has(column.type))
      ) {
        return refuse(
          field,
          `column "${column.name}" is ${column.type} and takes a number; got ${JSON.stringify(text)}.`,
          {
            column: column.name,
            type: column.type,
          },
        );
      }
      // numeric's documented limits: 131072 digits before the point, 16383 after.
      if (parsed.kind === 'finite' && (parsed.point > 131072 || parsed.digits.length - parsed.point > 16383)) {
        refuse(field, `the number is outside numeric's range (131072 digits before the point, 16383 after).`);
      }
      return parsed;
    },
    compare: compareDecimal,
    key: decimalKey,
  });
}

function floatKind(column: ColumnInfo): AnyKind {
  const single = column.type === 'float4';
  const round = single ? Math.fround : (value: number) => value;
  const specials: Record<string, number> = { NaN: Number.NaN, Infinity: Infinity, '-Infinity': -Infinity };
  return scalarKind<number>(column, {
    // to_jsonb writes NaN and ±Infinity as strings; other paths may carry any number as text.
    fromRow: (value) =>
      typeof value === 'number'
        ? round(value)
        : typeof value === 'string'
          ? Object.hasOwn(specials, value)
            ? specials[value]
            : decimalText.test(value) && /\d/.test(value)
              ? round(Number(value))
              : undefined
          : undefined,
    fromText(text, field) {
      const wide = Number(text);
      const value = round(wide);
      const mantissa = text.split(/[eE]/)[0] ?? '';
      // float4in and float8in refuse what overflows, or underflows to zero (subnormals are fine).
      const overflows = !Number.isFinite(value) && !/(NaN|Infinity)$/.test(text);
      const underflows = value === 0 && /[1-9]/.test(mantissa);
      if (overflows || underflows) {
        refuse(field, `${JSON.stringify(text)} is out of range for ${column.type}.`, {
          column: column.name,
          type: column.type,
        });
      }
      return value;
    },
    // float8's order: NaN above everything and equal to itself, -0 equal to 0.
    compare: (a, b) =>
      Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : Number.isNaN(b) ? -1 : a < b ? -1 : a > b ? 1 : 0,
    key: (value) => String(value),
  });
}

function textKind(column: ColumnInfo): AnyKind {
  // character(n): trailing spaces do not count in comparisons (they do in LIKE, on the raw text).
  const comparable = column.type === 'bpchar' ? (value: string) => value.replace(/ +$/, '') : (value: string) => value;
  return scalarKind<string>(column, {
    fromRow: (value) => (typeof value === 'string' ? comparable(value) : undefined),
    fromText(text, field) {
      checkText(text, field);
      if (column.type !== 'name') return comparable(text);
      // name's input keeps the first 63 bytes, cut at a character boundary.
      let clipped = '';
      let bytes = 0;
      for (const char of text) {
        bytes += utf8Length(char);
        if (bytes > 63) break;
        clipped += char;
      }
      return clipped;
    },
    compare: compareText,
    key: (value) => value,
  });
}

function enumKind(column: ColumnInfo, labels: readonly string[]): AnyKind {
  const position = new Map(labels.map((label, i) => [label, i]));
  return scalarKind<string>(column, {
    fromRow: (value) => (typeof value === 'string' ? value : undefined),
    fromText: (text) => text, // The compiler's check took only the type's labels.
    compare(a, b) {
      // A label added since the schema snapshot has no known place in the order.
      const [pa, pb] = [position.get(a), position.get(b)];
      return pa === undefined || pb === undefined ? undefined : pa - pb;
    },
    key: (value) => value,
  });
}

function uuidHex(text: string): string | undefined {
  const braced = text.startsWith('{');
  if (braced !== text.endsWith('}')) return undefined;
  const inner = braced ? text.slice(1, -1) : text;
  if (!/^[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$/.test(inner)) return undefined;
  return inner.replaceAll('-', '').toLowerCase();
}

function uuidKind(column: ColumnInfo): AnyKind {
  return scalarKind<string>(column, {
    fromRow: (value) => (typeof value === 'string' ? uuidHex(value) : undefined),
    fromText: (text, field) =>
      uuidHex(text) ??
      refuse(
        field,
        `column "${column.name}" is uuid and takes a UUID; the braces of ${JSON.stringify(text)} do not pair.`,
        {
          column: column.name,
          type: column.type,
        },
      ),
    compare: compareText,
    key: (value) => value,
  });
}

function boolKind(column: ColumnInfo): AnyKind {
  return scalarKind<boolean>(column, {
    fromRow: (value) => (typeof value === 'boolean' ? value : undefined),
    fromText: (text) => text === 'true',
    compare: (a, b) => (a === b ? 0 : a ? 1 : -1),
    key: (value) => (value ? 't' : 'f'),
  });
}

function timeKind(column: ColumnInfo): AnyKind {
  const isDate = column.type === 'date';
  return scalarKind<Moment>(column, {
    fromRow: (value) => (isDate ? rowDay(value) : rowMoment(value, column.type === 'timestamptz')),
    fromText: (text, field) => (isDate ? valueDay(text, column, field) : valueMoment(text, column, field)),
    compare: compareMoment,
    key: momentKey,
  });
}

function jsonbKind(column: ColumnInfo): AnyKind {
  return scalarKind<Json>(column, {
    fromRow: (value) => (value !== undefined && isJson(value) ? value : undefined),
    // The text is JSON.stringify's, so it parses; what jsonb's input would refuse is refused here.
    fromText: (text, field) => checkJsonText(JSON.parse(text) as Json, field),
    compare: compareJsonbTop,
    key: jsonKey,
  });
}

/** The kind of one value of `column` (the element, for an array), or undefined when it cannot be evaluated in memory. */
function elementKind(column: ColumnInfo): AnyKind | undefined {
  if (column.enumValues) return enumKind(column, column.enumValues);
  // Built-in types only: a type of the same name in another schema is not the one meant here.
  if (column.elementCastType !== `"pg_catalog".${JSON.stringify(column.type)}`) return undefined;
  switch (column.type) {
    case 'int2':
    case 'int4':
    case 'int8':
    case 'numeric':
      return decimalKind(column);
    case 'float4':
    case 'float8':
      return floatKind(column);
    case 'text':
    case 'varchar':
    case 'bpchar':
    case 'name':
      return textKind(column);
    case 'uuid':
      return uuidKind(column);
    case 'bool':
      return boolKind(column);
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return timeKind(column);
    case 'jsonb':
      // A jsonb[]'s to_jsonb nests its elements' arrays in its own: not told apart from dimensions.
      return column.isArray ? undefined : jsonbKind(column);
    default:
      return undefined;
  }
}

/** A PostgreSQL array: its dimensions (none when empty) and its elements in row-major order. */
interface PgArray {
  readonly dims: readonly number[];
  readonly items: readonly unknown[];
}

/** The dimensions a nested JS array claims by its first elements. */
function claimedDims(value: readonly unknown[]): number[] {
  const dims: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe) && probe.length > 0) {
    dims.push(probe.length);
    probe = probe[0];
  }
  return dims;
}

/** Walks a nested array of the claimed shape; `leaf` gets each element; false when the shape does not hold. */
function walkArray(
  value: readonly unknown[],
  dims: readonly number[],
  leaf: (item: unknown, path: string) => void,
  path: string,
  depth = 0,
): boolean {
  if (value.length !== dims[depth]) return false;
  for (let i = 0; i < value.length; i++) {
    const item = value[i];
    const itemPath = `${path}[${i}]`;
    if (depth + 1 < dims.length) {
      if (!Array.isArray(item) || !walkArray(item, dims, leaf, itemPath, depth + 1)) return false;
    } else if (Array.isArray(item)) {
      return false;
    } else {
      leaf(item, itemPath);
    }
  }
  return true;
}

function arrayKind(element: AnyKind): Kind<PgArray> {
  const itemKey = (item: unknown) => (item === null ? null : element.key(item));
  return {
    fromRow(value) {
      if (!Array.isArray(value)) return undefined;
      if (value.length === 0) return { dims: [], items: [] };
      const dims = claimedDims(value);
      const items: unknown[] = [];
      let ok = true;
      const shaped = walkArray(
        value,
        dims,
        (item) => {
          const parsed = item === null ? null : element.fromRow(item);
          if (parsed === undefined) ok = false;
          items.push(parsed);
        },
        '',
      );
      return shaped && ok ? { dims, items } : undefined;
    },
    fromValue(value, field) {
      // columnValueText has checked it is an array and each element's type, as the compiler does.
      const array = value as unknown[];
      if (array.length === 0) return { dims: [], items: [] };
      const dims = claimedDims(array);
      if (dims.length > maxArrayDimensions)
        refuse(field, `PostgreSQL arrays have at most ${maxArrayDimensions} dimensions.`);
      const items: unknown[] = [];
      const shaped = walkArray(
        array,
        dims,
        (item, path) => items.push(item === null ? null : element.fromValue(item, path)),
        field,
      );
      if (!shaped) {
        refuse(
          field,
          'a multidimensional array needs sub-arrays of matching lengths, none empty, and nothing else beside them.',
        );
      }
      return { dims, items };
    },
    // array_cmp: elements first (NULL above any value), then the number of elements, then the dimensions.
    compare(a, b) {
      const length = Math.min(a.items.length, b.items.length);
      for (let i = 0; i < length; i++) {
        const [x, y] = [a.items[i], b.items[i]];
        if (x === null || y === null) {
          if (x !== y) return x === null ? 1 : -1;
          continue;
        }
        const order = element.compare(x, y);
        if (order !== 0) return order;
      }
      if (a.items.length !== b.items.length) return a.items.length < b.items.length ? -1 : 1;
      if (a.dims.length !== b.dims.length) return a.dims.length < b.dims.length ? -1 : 1;
      for (let i = 0; i < a.dims.length; i++) {
        const [x, y] = [a.dims[i] as number, b.dims[i] as number];
        if (x !== y) return x < y ? -1 : 1;
      }
      return 0;
    },
    // array_eq: same dimensions, and element by element equal, two NULLs counting as equal.
    key: (value) => JSON.stringify([value.dims, value.items.map(itemKey)]),
  };
}

// ---------------------------------------------------------------------------------------------
// Conditions

const isTextual = (column: ColumnInfo) => column.category === 'S' && !column.isArray;
const isJsonColumn = (column: ColumnInfo) => !column.isArray && (column.type === 'json' || column.type === 'jsonb');

/** Refuses what JSON cannot carry (undefined inside, bigint, functions, cycles): the compiler would throw a TypeError on it. */
function checkWireValue(value: unknown, field: string, seen = new Set<unknown>()): void {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return;
  if ((Array.isArray(value) || isPlainObject(value)) && !seen.has(value)) {
    seen.add(value);
    for (const item of Object.values(value)) checkWireValue(item, field, seen);
    seen.delete(value);
    return;
  }
  refuse(field, `values are JSON: strings, numbers, booleans, null, arrays and plain objects; got ${typeof value}.`);
}

interface Context {
  readonly columnOf: (name: string) => ColumnInfo | undefined;
  readonly lower: (text: string) => string;
  nodes: number;
}

const comparisons: Partial<Record<FilterOperator, (order: number) => boolean>> = {
  gt: (order) => order > 0,
  gte: (order) => order >= 0,
  lt: (order) => order < 0,
  lte: (order) => order <= 0,
};

function compileLeaf(leaf: Record<string, unknown>, path: string, context: Context): Evaluate {
  const name = leaf.column;
  if (typeof name !== 'string') refuse(`${path}.column`, 'a column name is a string.');
  const column = context.columnOf(name as string);
  if (!column) {
    return refuse(
      `${path}.column`,
      `the table has no column ${JSON.stringify(name)}; GET /v1/schema lists its columns.`,
      {
        name,
      },
    );
  }
  const op = leaf.op as FilterOperator;
  if (!filterOperators.includes(op)) refuse(`${path}.op`, `unknown operator ${JSON.stringify(op)}.`);
  const field = `${path}.value`;
  const value = leaf.value;
  if (value !== undefined) checkWireValue(value, field);
  const read = (row: Row): unknown => (Object.hasOwn(row, column.name) ? row[column.name] : undefined);

  // The query compiler's own checks come first, with its messages, so that the same condition is
  // refused the same way by /v1/query and by a ticket.
  const single = () => {
    if (value === null || value === undefined) {
      refuse(field, `${op} needs a value; to match NULL use { column, op: 'isNull', value: true }.`);
    }
    columnValueText(value, column, field);
  };
  /** The kind of the whole column, for the operators that compare it. */
  const comparable = (): AnyKind => {
    if (column.type === 'json' && !column.isArray) {
      refuse(
        `${path}.op`,
        `"${column.name}" is json, which has no ${op} in PostgreSQL; use contains or containedBy, or make the column jsonb.`,
        {
          column: column.name,
          type: column.type,
        },
      );
    }
    const element = elementKind(column);
    if (!element) {
      return refuse(
        `${path}.op`,
        `realtime filters cannot evaluate ${op} on "${column.name}" (${column.type}${column.isArray ? '[]' : ''}) in memory; filter on another column, or use isNull.`,
        { column: column.name, type: column.type },
      );
    }
    return column.isArray ? (arrayKind(element) as AnyKind) : element;
  };
  /** A test on the row's value: unknown when the column is missing, NULL, or not of its type. */
  const test = (kind: AnyKind, check: (value: unknown) => Truth): Evaluate => {
    return (row) => {
      const raw = read(row);
      if (raw === undefined || raw === null) return null;
      const parsed = kind.fromRow(raw);
      return parsed === undefined ? null : check(parsed);
    };
  };

  switch (op) {
    case 'eq':
    case 'neq': {
      single();
      const kind = comparable();
      const wanted = kind.key(kind.fromValue(value, field));
      const equal = op === 'eq';
      return test(kind, (parsed) => (kind.key(parsed) === wanted) === equal);
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      single();
      const kind = comparable();
      const wanted = kind.fromValue(value, field);
      const holds = comparisons[op] as (order: number) => boolean;
      return test(kind, (parsed) => {
        const order = kind.compare(parsed, wanted);
        return order === undefined ? null : holds(order);
      });
    }
    case 'in':
    case 'notIn': {
      if (column.isArray) {
        refuse(field, `${op} compares single values; on the array column "${column.name}" use contains.`);
      }
      if (!Array.isArray(value)) return refuse(field, `${op} takes an array of values.`);
      listLiteral(value, column, field);
      const kind = comparable();
      const keys = new Set<string>();
      let listHasNull = false;
      value.forEach((item, i) => {
        if (item === null) listHasNull = true;
        else keys.add(kind.key(kind.fromValue(item, `${field}[${i}]`)));
      });
      const isIn = op === 'in';
      if (value.length === 0) {
        // = ANY of no elements is false, and <> ALL true, whatever the left side, NULL included.
        return (row) => (read(row) === undefined ? null : !isIn);
      }
      // x = ANY(list): true on a match; else unknown if the list holds a NULL; else false.
      return test(kind, (parsed) => (keys.has(kind.key(parsed)) ? isIn : listHasNull ? null : !isIn));
    }
    case 'like':
    case 'ilike': {
      if (!isTextual(column)) refuse(field, `${op} works on text columns; "${column.name}" is ${column.type}.`);
      if (typeof value !== 'string') return refuse(field, `${op} takes a pattern string (% and _ are wildcards).`);
      if (!elementKind(column)) {
        refuse(`${path}.op`, `realtime filters cannot evaluate ${op} on "${column.name}" (${column.type}) in memory.`, {
          column: column.name,
          type: column.type,
        });
      }
      // ILIKE lower-cases the pattern and the text, then matches as LIKE does.
      const fold = op === 'ilike' ? context.lower : (text: string) => text;
      const matches = compileLike(fold(checkText(value, field)), field);
      return (row) => {
        const raw = read(row);
        return typeof raw === 'string' ? matches(fold(raw)) : null;
      };
    }
    case 'isNull': {
      const wanted = value ?? true;
      if (typeof wanted !== 'boolean') refuse(field, 'isNull takes true (IS NULL) or false (IS NOT NULL).');
      return (row) => {
        const raw = read(row);
        return raw === undefined ? null : (raw === null) === wanted;
      };
    }
    case 'contains':
    case 'containedBy': {
      const contains = op === 'contains';
      if (column.isArray) {
        single();
        const kind = comparable() as unknown as Kind<PgArray>;
        const element = elementKind(column) as AnyKind;
        const wanted = kind.fromValue(value, field).items;
        if (contains) {
          // arraycontains: every element of the right side equals some element of the left; a NULL
          // on the right equals nothing.
          const needed = wanted.includes(null) ? undefined : wanted.map((item) => element.key(item));
          return test(kind as AnyKind, (parsed) => {
            if (!needed) return false;
            const have = new Set<string>();
            for (const item of (parsed as PgArray).items) if (item !== null) have.add(element.key(item));
            return needed.every((key) => have.has(key));
          });
        }
        const allowed = new Set(wanted.filter((item) => item !== null).map((item) => element.key(item)));
        return test(kind as AnyKind, (parsed) =>
          (parsed as PgArray).items.every((item) => item !== null && allowed.has(element.key(item))),
        );
      }
      if (isJsonColumn(column)) {
        // As the compiler: the value bound as jsonb (json has no @>, so both sides are jsonb). A
        // missing or null value binds NULL, and `x @> NULL` is unknown for every row.
        const text = columnValueText(value, column, field);
        if (text === null) return () => null;
        const wanted = checkJsonText(JSON.parse(text) as Json, field);
        return (row) => {
          const raw = read(row);
          if (raw === undefined || raw === null || !isJson(raw)) return null;
          return contains ? jsonbContains(raw, wanted) : jsonbContains(wanted, raw);
        };
      }
      return refuse(field, `${op} works on array and json/jsonb columns; "${column.name}" is ${column.type}.`);
    }
  }
  return refuse(`${path}.op`, `unknown operator ${JSON.stringify(op)}.`);
}

const shapeMessage = 'a condition is { column, op, value }, { and: [ … ] }, { or: [ … ] } or { not: { … } }.';

function compileNode(condition: unknown, path: string, context: Context, depth: number): Evaluate {
  if (depth > maxConditionDepth) refuse(path, `conditions nest at most ${maxConditionDepth} deep.`);
  context.nodes += 1;
  if (context.nodes > maxNodes) refuse(path, `a filter holds at most ${maxNodes} conditions.`);
  if (!isPlainObject(condition)) return refuse(path, shapeMessage);
  if (Object.hasOwn(condition, 'column')) return compileLeaf(condition, path, context);
  for (const combinator of ['and', 'or'] as const) {
    if (!Object.hasOwn(condition, combinator)) continue;
    const list = condition[combinator];
    if (!Array.isArray(list) || list.length === 0 || list.length > maxBranches) {
      refuse(`${path}.${combinator}`, `${combinator} takes a list of 1 to ${maxBranches} conditions.`);
    }
    const parts = (list as unknown[]).map((part, i) =>
      compileNode(part, `${path}.${combinator}[${i}]`, context, depth + 1),
    );
    // SQL's AND: false if any part is false, else unknown if any is unknown; OR the other way round.
    const decisive = combinator === 'or';
    return (row) => {
      let unknown = false;
      for (const part of parts) {
        const truth = part(row);
        if (truth === decisive) return decisive;
        if (truth === null) unknown = true;
      }
      return unknown ? null : !decisive;
    };
  }
  if (Object.hasOwn(condition, 'not')) {
    const inner = compileNode(condition.not, `${path}.not`, context, depth + 1);
    return (row) => {
      const truth = inner(row);
      return truth === null ? null : !truth;
    };
  }
  return refuse(path, shapeMessage);
}

/**
 * Compiles a `where` tree into a test of rows in memory, giving PostgreSQL's answer for the
 * statement the query compiler would emit: a row matches only when the whole condition is true
 * (a comparison with NULL is unknown, `not` of unknown is unknown, `and`/`or` as in SQL). Every
 * column is looked up with `columnOf` and every operator and value checked as the query compiler
 * checks them, with the same 400 (`validation_failed`, `details.field` such as
 * `where.and[1].value`); values are parsed once, here, so each row costs no parsing of the
 * condition. Rows are objects as `to_jsonb(row)` gives them; a row whose column is missing or of
 * another type makes that test unknown.
 *
 * Refused here though the compiler passes them, because PostgreSQL would fail on them or could
 * not be mirrored: `like` patterns ending in a lone `\` (PostgreSQL fails only on rows that reach
 * it); text with U+0000 or unpaired surrogates; `+NaN`/`-NaN` for numeric, numbers past numeric's
 * digit limits; floats that overflow or underflow to zero; uuids with unpaired braces;
 * multidimensional arrays that are not rectangular, hold empty sub-arrays or pass 6 dimensions;
 * comparisons and `in` on `json` (PostgreSQL has no `=` for it); timestamps other than ISO 8601
 * with years 0001–9999, hours 00–23, seconds 00–59 and at most 6 fractional digits (PostgreSQL
 * reads many more forms, some of them by the server's settings), timestamptz without an explicit
 * offset (PostgreSQL would read it in the server's time zone), timestamp with one (it would
 * ignore it); every operator but `isNull` on types this file does not model (time, interval,
 * money, bytea, inet, citext, domains, jsonb[], extension types …); values JSON cannot carry;
 * and what the wire schema refuses before the compiler sees it (a condition that is not an
 * object, an empty `and`/`or` or one of more than 64), plus trees of more than 10 000 conditions.
 *
 * Where the in-memory answer can still differ from PostgreSQL's:
 * - text order (`gt`, `lt`, … on text, and text inside jsonb and arrays) is code point order,
 *   PostgreSQL's under `COLLATE "C"` (and PGlite's default); under another collation
 *   (`en_US.UTF-8`, ICU) PostgreSQL orders differently. Equality is exact for every deterministic
 *   collation; nondeterministic (ICU case-insensitive) collations are not modelled.
 * - `ilike` lower-cases by {@link RowFilterOptions.ilikeCase}; an ICU collation lower-cases with
 *   the full mapping (İ to "i̇", final sigma) and JavaScript's Unicode tables may be newer or older
 *   than the server's.
 * - numbers past 2^53 (int8, numeric with more than ~15 significant digits, big numbers in jsonb)
 *   are exact only when the row carries them as strings; a row parsed with `JSON.parse` has
 *   already rounded them. Condition values are compared exactly.
 * - float4 values written in decimal are rounded to a double, then to float4 (PostgreSQL rounds
 *   once); the two differ only within half a unit of the last place of a tie.
 * - `to_jsonb` writes a jsonb/json column holding JSON `null` as `null`, the same as SQL NULL:
 *   this file takes it for SQL NULL (`isNull` true, every comparison unknown).
 * - arrays whose lower bound is not 1 (`'[0:1]={1,2}'`) look like 1-based ones in `to_jsonb`, so
 *   `eq` cannot tell them apart; PostgreSQL can.
 * - an enum label added since the schema snapshot was taken has no known place: `gt`/`lt` on it
 *   are unknown (`eq`, `in` are exact).
 *
 * @example
 * ```ts
 * const posts = (await schemaCache.findTable('public', 'posts'))!;
 * const matches = compileRowFilter(
 *   { and: [{ column: 'status', op: 'eq', value: 'live' }, { column: 'tags', op: 'contains', value: ['news'] }] },
 *   (name) => posts.column.get(name),
 * );
 * matches({ id: 7, status: 'live', tags: ['news', 'eu'] }); // true
 * matches({ id: 8, status: null, tags: ['news'] });         // false: NULL = 'live' is unknown
 * ```
 */
export function compileRowFilter(
  condition: Condition,
  columnOf: (name: string) => ColumnInfo | undefined,
  field = 'where',
  options: RowFilterOptions = {},
): RowFilter {
  const context: Context = {
    columnOf,
    lower: options.ilikeCase === 'ascii' ? lowerAscii : lowerUnicode,
    nodes: 0,
  };
  const evaluate = compileNode(condition, field, context, 0);
  return (row) => isPlainObject(row) && evaluate(row) === true;
}
