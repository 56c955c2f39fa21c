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

/**
 * Sends `message` to a server process (`target.child`, named `target.label`) and waits for its
 * answer: rejects on an `error` answer, on the process's exit, or after `timeoutMs`.
 */
export function askChild(target, message, timeoutMs) {
  return new Promise((resolve, reject) => {
    const { child } = target;
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (answer) => {
      done();
      if (answer?.type === 'error') reject(new Error(`${target.label}: ${answer.message}`));
      else resolve(answer);
    };
    const onExit = (code) => {
      done();
      reject(new Error(`${target.label}: the server process exited (${code})`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${target.label}: no answer to ${message.type} within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send(message);
  });
}
