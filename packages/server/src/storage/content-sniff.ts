/**
 * What an upload's first bytes say it is, and whether that agrees with the type the client
 * declared. The point is markup: a file whose bytes a browser would run as HTML, SVG or XML must
 * be declared as such, so the serving side can treat it as active content, and must never pass
 * as an image or a text file.
 */

/** Types whose documents can run script when a browser opens them. */
const markupSniffs = new Set(['text/html', 'image/svg+xml', 'application/xhtml+xml', 'application/xml']);

/**
 * Containers that many formats are built on (docx, xlsx, epub and jar are zip; m4a, mov, heic
 * and avif are ISO media files): the bytes cannot tell which of them a file is.
 */
const containerSniffs = new Set(['application/zip', 'application/gzip', 'video/mp4']);

/** Every type {@link sniffContentType} can return, plus the synonym it folds into one. */
const recognisableTypes = new Set([
  ...markupSniffs,
  'text/xml',
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'application/pdf',
  'application/zip',
  'application/gzip',
  'video/mp4',
  'audio/mpeg',
]);

// The WHATWG MIME Sniffing Standard's HTML patterns (§7.1, "rules for identifying an unknown
// MIME type"): a document starting with one of these elements is HTML to a browser.
const htmlRootElements = new Set([
  'html',
  'head',
  'body',
  'script',
  'iframe',
  'h1',
  'div',
  'font',
  'table',
  'a',
  'style',
  'title',
  'b',
  'br',
  'p',
]);

/**
 * The type the first bytes of a file show, from magic numbers and, for text, from how the markup
 * starts; undefined when they show none of the types below.
 *
 * Binary: image/png, image/jpeg, image/gif, image/webp, application/pdf, application/zip,
 * application/gzip, video/mp4 (any ISO media file: an `ftyp` box), audio/mpeg (an ID3 tag or an
 * MPEG layer II/III frame header).
 *
 * Markup, after an optional UTF-8 or UTF-16 byte-order mark and whitespace, case-insensitively:
 * image/svg+xml when the root element or the doctype is `svg` (also after an XML declaration or
 * comments); application/xhtml+xml for an `html` root after an XML declaration; application/xml
 * for any other document with an XML declaration or a non-HTML doctype; text/html for an HTML
 * doctype, a root element from the WHATWG HTML patterns (`html`, `head`, `body`, `script`,
 * `iframe`, `div`, `a`, `p`, ...) or a leading comment (`<!--`). When the head ends before a root
 * element, an XML document with `<svg` anywhere in it counts as SVG.
 *
 * @param head The first bytes of the file; 512 are enough.
 * @example
 * ```ts
 * sniffContentType(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])); // 'image/png'
 * sniffContentType(new TextEncoder().encode('\uFEFF  <HtMl><body>hi')); // 'text/html'
 * sniffContentType(new TextEncoder().encode('just words')); // undefined
 * ```
 */
export function sniffContentType(head: Uint8Array): string | undefined {
  return sniffMarkup(head) ?? sniffBinary(head);
}

/**
 * Whether `declared` (a Content-Type, parameters and case ignored) may stand for bytes that
 * {@link sniffContentType} found to be `sniffed`. The rule:
 *
 * - A declared value that is not a MIME type (`type/subtype`, optional parameters) is refused.
 * - Markup (text/html, image/svg+xml, application/xhtml+xml, application/xml) must be declared as
 *   exactly that type. application/xml may also be declared as text/xml or any other `+xml` type
 *   (application/rss+xml, ...), which browsers all open as XML.
 * - A binary type must be declared as exactly that type: image/jpg for JPEG bytes is refused.
 *   Containers are the exception (application/zip, application/gzip, video/mp4): any declared
 *   type that is neither markup nor another type this sniffer knows is accepted, since docx,
 *   epub, m4a, avif and the like are those containers.
 * - Unrecognised bytes may not be declared as an image/* type or as any type this sniffer
 *   recognises (image/png that is not PNG, application/pdf that is not PDF, text/html that does
 *   not start like HTML). Anything else is accepted: text/plain, application/json,
 *   application/octet-stream and types this module does not know.
 *
 * @example
 * ```ts
 * contentTypeMatches('image/png', 'image/png'); // true
 * contentTypeMatches('image/png', 'text/html'); // false: HTML dressed as an image
 * contentTypeMatches('Text/Plain; charset=utf-8', undefined); // true
 * contentTypeMatches('image/png', undefined); // false: not a PNG
 * ```
 */
export function contentTypeMatches(declared: string, sniffed: string | undefined): boolean {
  const type = mimeEssence(declared);
  if (type === undefined) return false;
  if (sniffed === undefined) return !type.startsWith('image/') && !recognisableTypes.has(type);
  const sniffedType = sniffed.toLowerCase();
  const actual = sniffedType === 'text/xml' ? 'application/xml' : sniffedType;
  if (type === actual) return true;
  if (actual === 'application/xml') {
    return type === 'text/xml' || (type.endsWith('+xml') && !markupSniffs.has(type));
  }
  if (markupSniffs.has(actual)) return false;
  return containerSniffs.has(actual) && !isMarkupType(type) && !recognisableTypes.has(type);
}

/**
 * Whether a browser opening a document of this type may run script in it: HTML, XHTML, SVG and
 * every XML type (an XML document can hold XHTML elements). Parameters and case are ignored. The
 * serving side should send these as attachments or under a sandboxing Content-Security-Policy.
 *
 * @example
 * ```ts
 * isMarkupType('image/svg+xml'); // true
 * isMarkupType('application/atom+xml; charset=utf-8'); // true
 * isMarkupType('image/png'); // false
 * ```
 */
export function isMarkupType(contentType: string): boolean {
  const type = mimeEssence(contentType);
  if (type === undefined) return false;
  return markupSniffs.has(type) || type === 'text/xml' || type === 'text/xsl' || type.endsWith('+xml');
}

/** `type/subtype`, lowercased and without parameters; undefined when it is not a MIME type. */
function mimeEssence(contentType: string): string | undefined {
  // Control characters would let a declared type smuggle a header line or confuse a parser.
  for (let index = 0; index < contentType.length; index += 1) {
    const code = contentType.charCodeAt(index);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return undefined;
  }
  const match = /^[\t ]*([!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+)[\t ]*(?:;.*)?$/i.exec(contentType);
  return match?.[1]?.toLowerCase();
}

function sniffBinary(head: Uint8Array): string | undefined {
  const startsWith = (bytes: readonly number[], offset = 0) =>
    head.length >= offset + bytes.length && bytes.every((byte, index) => head[offset + index] === byte);
  const ascii = (text: string, offset = 0) =>
    startsWith(
      Array.from(text, (character) => character.charCodeAt(0)),
      offset,
    );

  if (startsWith([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (ascii('GIF87a') || ascii('GIF89a')) return 'image/gif';
  if (ascii('RIFF') && ascii('WEBPVP', 8)) return 'image/webp';
  if (ascii('%PDF-')) return 'application/pdf';
  // Local file header, or the end record that is all an empty archive holds.
  if (ascii('PK\u0003\u0004') || ascii('PK\u0005\u0006')) return 'application/zip';
  if (startsWith([0x1f, 0x8b, 0x08])) return 'application/gzip';
  if (isIsoMediaFile(head)) return 'video/mp4';
  if (isMpegAudio(head)) return 'audio/mpeg';
  return undefined;
}

/** An ISO base media file opens with an `ftyp` box: size, `ftyp`, major brand, minor version. */
function isIsoMediaFile(head: Uint8Array): boolean {
  if (head.length < 16) return false;
  const boxSize = (((head[0] ?? 0) << 24) | ((head[1] ?? 0) << 16) | ((head[2] ?? 0) << 8) | (head[3] ?? 0)) >>> 0;
  const isFtyp = head[4] === 0x66 && head[5] === 0x74 && head[6] === 0x79 && head[7] === 0x70;
  // Brands are four printable characters (`isom`, `mp42`, `M4A `, `avif`).
  const printableBrand = head.subarray(8, 12).every((byte) => byte >= 0x20 && byte <= 0x7e);
  return isFtyp && boxSize >= 16 && boxSize % 4 === 0 && printableBrand;
}

function isMpegAudio(head: Uint8Array): boolean {
  const [b0, b1, b2, b3] = head;
  if (b0 === undefined || b1 === undefined || b2 === undefined) return false;
  // An ID3v2 tag: "ID3", then a major version 2 to 4.
  if (b0 === 0x49 && b1 === 0x44 && b2 === 0x33) return b3 !== undefined && b3 >= 2 && b3 <= 4;
  // A frame header: 11 sync bits, then fields whose reserved values would mean it is not one.
  // Layer I is left out: it is all but unused, and FF FE is also the UTF-16LE byte-order mark.
  const version = (b1 >> 3) & 0b11;
  const layer = (b1 >> 1) & 0b11;
  const bitrate = b2 >> 4;
  const sampleRate = (b2 >> 2) & 0b11;
  return (
    b0 === 0xff &&
    (b1 & 0xe0) === 0xe0 &&
    version !== 0b01 &&
    (layer === 0b01 || layer === 0b10) &&
    bitrate !== 0b1111 &&
    sampleRate !== 0b11
  );
}

function sniffMarkup(head: Uint8Array): string | undefined {
  const text = decodeForSniffing(head).replace(/^[\t\n\f\r ]+/, '');
  if (!text.startsWith('<')) return undefined;
  const prolog = readProlog(text);
  if (prolog === undefined) return undefined;
  const root = prolog.root === undefined ? undefined : localName(prolog.root);
  const doctype = prolog.doctype === undefined ? undefined : localName(prolog.doctype);

  if (root === 'svg' || (root === undefined && doctype === 'svg')) return 'image/svg+xml';
  if (prolog.xmlDeclaration) {
    if (root === 'html' || (root === undefined && doctype === 'html')) return 'application/xhtml+xml';
    if (root === undefined && /<(?:[a-z0-9_.-]+:)?svg[\t\n\f\r />]/i.test(text)) return 'image/svg+xml';
    return 'application/xml';
  }
  if (doctype === 'html' || (root !== undefined && htmlRootElements.has(root))) return 'text/html';
  if (prolog.comment) return 'text/html';
  if (doctype !== undefined) return 'application/xml';
  return undefined;
}

/** How a markup document begins: what precedes its root element, and the root's name. */
interface Prolog {
  xmlDeclaration: boolean;
  comment: boolean;
  doctype: string | undefined;
  /** The root element's name, lowercased; undefined when the head ends first. */
  root: string | undefined;
}

/**
 * Walks the XML declaration, processing instructions, comments and doctype before the root
 * element. Undefined when the text is not markup at all (`<?php`, `< 3`, `<<`).
 */
function readProlog(text: string): Prolog | undefined {
  const prolog: Prolog = { xmlDeclaration: false, comment: false, doctype: undefined, root: undefined };
  let rest = text;
  for (;;) {
    rest = rest.replace(/^[\t\n\f\r ]+/, '');
    if (rest === '') return prolog;
    if (rest.startsWith('<?')) {
      const isXml = /^<\?xml(?:[\t\n\f\r ?]|-)/i.test(rest);
      // `<?php` and friends are not XML; a processing instruction after the declaration is.
      if (!isXml && !prolog.xmlDeclaration) return undefined;
      prolog.xmlDeclaration = true;
      const end = rest.indexOf('?>');
      if (end === -1) return prolog;
      rest = rest.slice(end + 2);
    } else if (rest.startsWith('<!--')) {
      prolog.comment = true;
      const end = rest.indexOf('-->', 4);
      if (end === -1) return prolog;
      rest = rest.slice(end + 3);
    } else if (/^<!doctype/i.test(rest)) {
      prolog.doctype = /^<!doctype[\t\n\f\r ]+([^\t\n\f\r >[]+)/i.exec(rest)?.[1]?.toLowerCase() ?? '';
      const end = doctypeEnd(rest);
      if (end === undefined) return prolog;
      rest = rest.slice(end + 1);
    } else {
      const element = /^<([a-z_][^\t\n\f\r />]*)/i.exec(rest);
      if (element?.[1] === undefined) {
        const sawProlog = prolog.xmlDeclaration || prolog.comment || prolog.doctype !== undefined;
        return sawProlog ? prolog : undefined;
      }
      prolog.root = element[1].toLowerCase();
      return prolog;
    }
  }
}

/** Where the doctype at the start of `text` closes; an internal subset in brackets may itself contain `>`. */
function doctypeEnd(text: string): number | undefined {
  const close = text.indexOf('>');
  if (close === -1) return undefined;
  const subsetStart = text.indexOf('[');
  if (subsetStart === -1 || subsetStart > close) return close;
  const subsetEnd = text.indexOf(']', subsetStart);
  const end = subsetEnd === -1 ? -1 : text.indexOf('>', subsetEnd);
  return end === -1 ? undefined : end;
}

/** `svg` for `svg` and for a prefixed `svg:svg`. */
function localName(name: string): string {
  return name.slice(name.lastIndexOf(':') + 1);
}

/**
 * The head as text for matching ASCII patterns: UTF-16 when a byte-order mark says so (browsers
 * honour it), otherwise one character per byte, which keeps every ASCII byte as itself.
 */
function decodeForSniffing(head: Uint8Array): string {
  const littleEndian = head[0] === 0xff && head[1] === 0xfe;
  const bigEndian = head[0] === 0xfe && head[1] === 0xff;
  if (littleEndian || bigEndian) {
    let text = '';
    for (let index = 2; index + 1 < head.length; index += 2) {
      const low = head[littleEndian ? index : index + 1] ?? 0;
      const high = head[littleEndian ? index + 1 : index] ?? 0;
      text += String.fromCharCode((high << 8) | low);
    }
    return text;
  }
  const start = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  let text = '';
  for (let index = start; index < head.length; index += 1) text += String.fromCharCode(head[index] ?? 0);
  return text;
}
