// What a server process under load answers its parent (http.mjs's startTarget): its CPU time on
// `cpu` (the benchmarks read it around measured slices), and on `close` its RSS, then `close()`
// and exit. Shared by every such child so that all of them answer alike.

/**
 * Answers the parent's `cpu` and `close` messages; `close` is what stops this process's servers.
 *
 * @example
 * ```js
 * answerParent(() => new Promise((resolve) => server.close(resolve)));
 * ```
 */
export function answerParent(close) {
  process.on('message', async (message) => {
    if (message?.type === 'cpu') {
      const used = process.cpuUsage();
      process.send({ type: 'cpu', micros: used.user + used.system });
      return;
    }
    if (message?.type !== 'close') return;
    const rssMiB = process.memoryUsage.rss() / (1024 * 1024);
    await close();
    process.send({ type: 'closed', rssMiB }, () => process.exit(0));
  });
}
