/** A page of a cursor-paged admin list: its items under any name, and the cursor of the next page. */
export interface CursorPage {
  /** The cursor of the next page; `null` on the last page. */
  nextCursor: string | null;
}

/**
 * Every item of a cursor-paged list, one at a time: fetches the first page when the loop starts,
 * then page after page, passing each page's `nextCursor` on unchanged, until one answers `null`.
 * Nothing is fetched until the loop asks, and breaking out of the loop stops the fetching.
 *
 * The caller checks that it may call the route (`transport.assertCallable`) before calling this:
 * a missing service key must throw where `listAll()` is written, not at the first `next()`.
 *
 * @example
 * ```ts
 * const everyUser = followCursor(
 *   (cursor) => callAs(transport, adminListUsersRoute, 'admin.users.listAll()', definedOnly({ cursor }), undefined),
 *   (page) => page.users,
 * );
 * for await (const user of everyUser) console.log(user.email);
 * ```
 */
export function followCursor<Page extends CursorPage, Item>(
  fetchPage: (cursor: string | undefined) => Promise<Page>,
  itemsOf: (page: Page) => readonly Item[],
): AsyncIterable<Item> {
  return {
    async *[Symbol.asyncIterator]() {
      let cursor: string | undefined;
      do {
        const page = await fetchPage(cursor);
        yield* itemsOf(page);
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
    },
  };
}
