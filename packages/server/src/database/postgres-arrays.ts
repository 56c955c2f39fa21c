/**
 * Parses PostgreSQL's text form of an array (`{a,"b c",NULL,{1,2}}`), applying `element` to every
 * element that is not NULL. Unlike postgres.js 3.4's own parser, an unquoted NULL is `null`
 * (there it comes back as the string 'NULL', or NaN in a number array).
 *
 * @example
 * ```ts
 * parsePostgresArray('{1,NULL,"3"}', Number); // [1, null, 3]
 * ```
 */
export function parsePostgresArray(text: string, element: (value: string) => unknown, delimiter = ','): unknown {
  let i = 0;
  // Dimension decorations (`[1:2]={…}`) come before the braces.
  if (text.startsWith('[')) i = text.indexOf('=') + 1;
  const parseLevel = (): unknown[] => {
    const items: unknown[] = [];
    i++; // the opening brace
    if (text[i] === '}') {
      i++;
      return items;
    }
    for (;;) {
      if (text[i] === '{') {
        items.push(parseLevel());
      } else if (text[i] === '"') {
        let value = '';
        for (i++; text[i] !== '"'; i++) value += text[i] === '\\' ? text[++i] : text[i];
        i++;
        items.push(element(value));
      } else {
        const start = i;
        while (text[i] !== delimiter && text[i] !== '}') i++;
        const raw = text.slice(start, i).trim();
        items.push(raw.toUpperCase() === 'NULL' ? null : element(raw));
      }
      if (text[i] === '}') {
        i++;
        return items;
      }
      i++; // the delimiter
    }
  };
  return parseLevel();
}
