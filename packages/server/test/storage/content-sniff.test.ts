import { describe, expect, it } from 'vitest';
import { contentTypeMatches, isMarkupType, sniffContentType } from '../../src/storage/content-sniff.js';

const text = (value: string) => new TextEncoder().encode(value);
const bytes = (...values: number[]) => new Uint8Array(values);
const concat = (...parts: Uint8Array[]) => {
  const joined = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
};

const utf16 = (value: string, littleEndian: boolean) => {
  const out = new Uint8Array(2 + value.length * 2);
  out.set(littleEndian ? [0xff, 0xfe] : [0xfe, 0xff]);
  for (let index = 0; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    out[2 + index * 2] = littleEndian ? code & 0xff : code >> 8;
    out[3 + index * 2] = littleEndian ? code >> 8 : code & 0xff;
  }
  return out;
};

/** A whole, minimal PNG: signature, IHDR of a 1×1 image, IDAT, IEND. */
const realPng = Uint8Array.from(
  Buffer.from(
    '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
    'hex',
  ),
);

/** An ftyp box as an MP4, M4A or AVIF file opens: size, `ftyp`, major brand, version, compatible brands. */
const ftyp = (major: string, ...compatible: string[]) => {
  const size = 16 + compatible.length * 4;
  return concat(bytes(0, 0, 0, size), text('ftyp'), text(major), bytes(0, 0, 2, 0), ...compatible.map(text));
};

describe('sniffContentType', () => {
  it.each<[string, Uint8Array, string | undefined]>([
    ['PNG', realPng, 'image/png'],
    ['JPEG (JFIF)', bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46), 'image/jpeg'],
    ['JPEG (Exif)', bytes(0xff, 0xd8, 0xff, 0xe1), 'image/jpeg'],
    ['GIF87a', text('GIF87a\u0001\u0000'), 'image/gif'],
    ['GIF89a', text('GIF89a\u0001\u0000'), 'image/gif'],
    ['WebP', concat(text('RIFF'), bytes(0x24, 0, 0, 0), text('WEBPVP8 ')), 'image/webp'],
    ['WAV (RIFF but not WebP)', concat(text('RIFF'), bytes(0x24, 0, 0, 0), text('WAVEfmt ')), undefined],
    ['PDF', text('%PDF-1.7\n%âãÏÓ'), 'application/pdf'],
    ['zip', concat(text('PK'), bytes(3, 4, 20, 0)), 'application/zip'],
    ['empty zip', concat(text('PK'), bytes(5, 6, 0, 0)), 'application/zip'],
    ['gzip', bytes(0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0), 'application/gzip'],
    ['MP4', ftyp('isom', 'isom', 'iso2', 'avc1', 'mp41'), 'video/mp4'],
    ['M4A (an ISO media file too)', ftyp('M4A ', 'M4A ', 'mp42', 'isom'), 'video/mp4'],
    [
      'ftyp with a box size not a multiple of 4',
      concat(bytes(0, 0, 0, 17), text('ftypisom'), bytes(0, 0, 2, 0)),
      undefined,
    ],
    ['MP3 with an ID3v2.3 tag', concat(text('ID3'), bytes(3, 0, 0, 0, 0, 0x0f, 0x76)), 'audio/mpeg'],
    ['MP3 frame (MPEG-1 layer III, 128 kbit/s)', bytes(0xff, 0xfb, 0x90, 0x64), 'audio/mpeg'],
    ['MP3 frame (MPEG-2 layer III)', bytes(0xff, 0xf3, 0x84, 0xc4), 'audio/mpeg'],
    ['frame sync with a reserved sample rate', bytes(0xff, 0xfb, 0x9c, 0x64), undefined],
    ['AAC ADTS (layer bits 00: not MPEG audio)', bytes(0xff, 0xf1, 0x50, 0x80), undefined],
    ['HTML doctype', text('<!DOCTYPE html><html><head>'), 'text/html'],
    ['lowercase html doctype', text('<!doctype html>\n<title>x</title>'), 'text/html'],
    [
      'XHTML 1.0 doctype without a declaration',
      text('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN">'),
      'text/html',
    ],
    ['<html>', text('<html lang="en">'), 'text/html'],
    ['<head>', text('<head><meta charset="utf-8">'), 'text/html'],
    ['<body>', text('<body onload="go()">'), 'text/html'],
    ['<script>', text('<script>alert(document.cookie)</script>'), 'text/html'],
    ['<iframe>', text('<iframe src="https://example.com">'), 'text/html'],
    ['<a>', text('<a href="javascript:alert(1)">x</a>'), 'text/html'],
    ['<br/>', text('<br/>hello'), 'text/html'],
    ['<p>', text('<p>hello</p>'), 'text/html'],
    ['a leading comment', text('<!-- saved from url=(0014)about:internet -->'), 'text/html'],
    ['a comment cut off by the end of the head', text(`<!-- ${'x'.repeat(600)}`), 'text/html'],
    ['BOM, whitespace and <HtMl', concat(bytes(0xef, 0xbb, 0xbf), text(' \t\r\n\f<HtMl>')), 'text/html'],
    ['UTF-16LE HTML', utf16('<html><script>', true), 'text/html'],
    ['UTF-16BE HTML', utf16('  <SCRIPT>', false), 'text/html'],
    ['bare SVG', text('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'), 'image/svg+xml'],
    [
      'SVG after an XML declaration',
      text('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg">'),
      'image/svg+xml',
    ],
    [
      'SVG after a declaration, a comment and a doctype',
      text(
        '<?xml version="1.0"?>\n<!-- Generator: Adobe Illustrator -->\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg version="1.1">',
      ),
      'image/svg+xml',
    ],
    [
      'SVG after a doctype with an internal subset',
      text('<!DOCTYPE svg [ <!ENTITY a "<b>"> ]>\n<svg>'),
      'image/svg+xml',
    ],
    [
      'prefixed SVG root',
      text('<?xml version="1.0"?><svg:svg xmlns:svg="http://www.w3.org/2000/svg">'),
      'image/svg+xml',
    ],
    ['SVG after a comment', text('<!-- icon --><svg viewBox="0 0 1 1">'), 'image/svg+xml'],
    [
      'XML declaration, the head ending before the root element but after a <svg',
      text(`<?xml version="1.0"?><!-- icon: <svg viewBox="0 0 1 1"> ${'long '.repeat(200)} --><svg>`).subarray(0, 512),
      'image/svg+xml',
    ],
    [
      'XML declaration, the head ending before the root element with no <svg',
      text(`<?xml version="1.0"?><!-- ${'long '.repeat(200)} --><svg>`).subarray(0, 512),
      'application/xml',
    ],
    [
      'XHTML',
      text('<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><script>'),
      'application/xhtml+xml',
    ],
    ['XML', text('<?xml version="1.0"?>\n<note><to>Ada</to></note>'), 'application/xml'],
    [
      'XML with a stylesheet instruction',
      text('<?xml-stylesheet href="a.xsl"?><rss version="2.0">'),
      'application/xml',
    ],
    ['a non-HTML doctype', text('<!DOCTYPE note SYSTEM "note.dtd"><note>'), 'application/xml'],
    ['PHP (a processing instruction, not XML)', text('<?php echo 1; ?>'), undefined],
    ['an unknown root element', text('<note>hello</note>'), undefined],
    ['<htmlx> (not the html element)', text('<htmlx>'), undefined],
    ['text before the markup', text('Hello <script>alert(1)</script>'), undefined],
    ['a less-than sign', text('< 3 is less than 5'), undefined],
    ['JSON', text('{"name":"ada"}'), undefined],
    ['plain text', text('just some words\n'), undefined],
    ['UTF-16LE plain text (its BOM is no MP3 frame)', utf16('hello', true), undefined],
    ['empty', new Uint8Array(), undefined],
    ['a truncated PNG signature', realPng.subarray(0, 5), undefined],
  ])('%s → %s', (_, head, type) => {
    expect(sniffContentType(head)).toBe(type);
  });
});

describe('contentTypeMatches', () => {
  const htmlAsPng = text('<html><script>fetch("/v1/me").then(steal)</script>');

  it('refuses HTML dressed as a PNG, or as anything but HTML', () => {
    const sniffed = sniffContentType(htmlAsPng);
    expect(sniffed).toBe('text/html');
    for (const declared of [
      'image/png',
      'text/plain',
      'application/json',
      'application/octet-stream',
      'image/svg+xml',
    ]) {
      expect(contentTypeMatches(declared, sniffed)).toBe(false);
    }
    expect(contentTypeMatches('text/html; charset=utf-8', sniffed)).toBe(true);
  });

  it('accepts an SVG only when it is declared as one', () => {
    const sniffed = sniffContentType(text('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'));
    expect(contentTypeMatches('image/svg+xml', sniffed)).toBe(true);
    expect(contentTypeMatches('image/png', sniffed)).toBe(false);
    expect(contentTypeMatches('application/xml', sniffed)).toBe(false);
    expect(contentTypeMatches('text/plain', sniffed)).toBe(false);
  });

  it('accepts XML declared as text/xml, application/xml or another +xml type, but not as SVG or XHTML', () => {
    const sniffed = sniffContentType(text('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">'));
    expect(sniffed).toBe('application/xml');
    for (const declared of ['application/xml', 'text/xml', 'application/atom+xml']) {
      expect(contentTypeMatches(declared, sniffed)).toBe(true);
    }
    for (const declared of ['image/svg+xml', 'application/xhtml+xml', 'text/plain', 'application/octet-stream']) {
      expect(contentTypeMatches(declared, sniffed)).toBe(false);
    }
  });

  it('accepts a real PNG declared image/png, ignoring case and parameters', () => {
    const sniffed = sniffContentType(realPng);
    expect(contentTypeMatches('image/png', sniffed)).toBe(true);
    expect(contentTypeMatches(' IMAGE/PNG ; name="a.png"', sniffed)).toBe(true);
  });

  it('holds binary types to their exact name', () => {
    expect(contentTypeMatches('image/jpg', 'image/jpeg')).toBe(false);
    expect(contentTypeMatches('image/jpeg', 'image/jpeg')).toBe(true);
    expect(contentTypeMatches('image/gif', 'image/png')).toBe(false);
    expect(contentTypeMatches('application/octet-stream', 'image/png')).toBe(false);
    expect(contentTypeMatches('text/plain', 'application/pdf')).toBe(false);
    expect(contentTypeMatches('audio/mp3', 'audio/mpeg')).toBe(false);
  });

  it('lets a container stand for the formats built on it, but not for markup or another known type', () => {
    const docx = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
    expect(contentTypeMatches(docx, 'application/zip')).toBe(true);
    expect(contentTypeMatches('application/epub+zip', 'application/zip')).toBe(true);
    expect(contentTypeMatches('audio/mp4', 'video/mp4')).toBe(true);
    expect(contentTypeMatches('image/avif', sniffContentType(ftyp('avif', 'avif', 'mif1', 'miaf')))).toBe(true);
    expect(contentTypeMatches('application/x-gzip', 'application/gzip')).toBe(true);
    expect(contentTypeMatches('image/png', 'application/zip')).toBe(false);
    expect(contentTypeMatches('application/pdf', 'video/mp4')).toBe(false);
    expect(contentTypeMatches('text/html', 'application/zip')).toBe(false);
    expect(contentTypeMatches('image/svg+xml', 'application/gzip')).toBe(false);
    expect(contentTypeMatches('application/rss+xml', 'application/zip')).toBe(false);
  });

  it('accepts plain text, JSON, octet-stream and unknown types whose bytes are unrecognised', () => {
    for (const declared of [
      'text/plain',
      'text/plain; charset=utf-8',
      'application/json',
      'application/octet-stream',
      'text/csv',
      'application/x-plinth-custom',
    ]) {
      expect(contentTypeMatches(declared, sniffContentType(text('hello, world\n')))).toBe(true);
    }
  });

  it('refuses random bytes declared as an image or any type the sniffer knows', () => {
    // Fixed bytes rather than random ones, so the test is the same every run.
    const noise = bytes(0x13, 0x9a, 0x4e, 0x07, 0xc2, 0x55, 0x81, 0x3d, 0xe0, 0x6b);
    const sniffed = sniffContentType(noise);
    expect(sniffed).toBeUndefined();
    for (const declared of [
      'image/png',
      'image/jpeg',
      'image/bmp',
      'image/svg+xml',
      'application/pdf',
      'application/zip',
      'video/mp4',
      'audio/mpeg',
      'text/html',
      'text/xml',
    ]) {
      expect(contentTypeMatches(declared, sniffed)).toBe(false);
    }
    expect(contentTypeMatches('application/octet-stream', sniffed)).toBe(true);
  });

  it('refuses a declared value that is not a MIME type', () => {
    for (const declared of [
      '',
      'png',
      'image/',
      '/png',
      'image/png/x',
      'text/html garbage',
      'text/plain\r\nX-Evil: 1',
    ]) {
      expect(contentTypeMatches(declared, undefined)).toBe(false);
    }
  });
});

describe('isMarkupType', () => {
  it.each([
    ['text/html', true],
    ['Text/HTML; charset=utf-8', true],
    ['application/xhtml+xml', true],
    ['image/svg+xml', true],
    ['text/xml', true],
    ['application/xml', true],
    ['application/rss+xml', true],
    ['image/png', false],
    ['text/plain', false],
    ['application/json', false],
    ['not a type', false],
  ])('%s → %s', (type, markup) => {
    expect(isMarkupType(type)).toBe(markup);
  });
});
