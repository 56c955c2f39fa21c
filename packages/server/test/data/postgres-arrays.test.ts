import { describe, expect, it } from 'vitest';
import { parsePostgresArray } from '../../src/database/postgres-arrays.js';

describe('parsePostgresArray', () => {
  it.each([
    ['{}', []],
    ['{a,b}', ['a', 'b']],
    ['{a,NULL,"NULL"}', ['a', null, 'NULL']],
    ['{"a \\"quoted\\", {braced} \\\\ tag",NULL}', ['a "quoted", {braced} \\ tag', null]],
    [
      '{{1,2},{3,NULL}}',
      [
        ['1', '2'],
        ['3', null],
      ],
    ],
    ['[0:1]={x,y}', ['x', 'y']],
  ])('%s', (text, expected) => {
    expect(parsePostgresArray(text, (value) => value)).toEqual(expected);
  });

  it('applies the element parser to non-NULL elements only', () => {
    expect(parsePostgresArray('{1,NULL,3}', Number)).toEqual([1, null, 3]);
  });
});
