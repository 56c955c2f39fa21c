// The table `pnpm bench` prints: the same figures as results/latest.json.

export const fixed = (value, digits) => (value === undefined ? '' : value.toFixed(digits));
const whole = (value) => (value === undefined ? '' : Math.round(value).toLocaleString('en-US'));

/** Left-aligned first column, right-aligned others, two spaces between. */
export function table(header, rows) {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].map((row) => `  ${row}`);
}

function hashingSection({ params, concurrencyCap, uvThreadpoolSize, slices, sequential, concurrent, ratio }) {
  const row = (name, run, ratio) => [
    name,
    fixed(run.hashesPerSecond, 1),
    fixed(run.msPerHash, 1),
    fixed(run.latencyMs, 1),
    fixed(run.rssPeakGrowthMiB, 0),
    String(run.hashes),
    fixed(ratio, 2),
  ];
  return [
    `argon2id with the server's hasher: m=${params.memoryCost} KiB, t=${params.timeCost}, p=${params.parallelism}, v=${params.version}; cap ${concurrencyCap} at once; libuv pool ${uvThreadpoolSize} threads; ${sequential.seconds} s + ${concurrent.seconds} s in ${slices} alternating slices`,
    ...table(
      ['run', 'hashes/s', 'ms/hash', 'latency ms', 'RSS peak +MiB', 'hashes', 'ratio'],
      [row('sequential (baseline)', sequential, 1), row(`${concurrencyCap} at once`, concurrent, ratio)],
    ),
    '  ms/hash: elapsed time / hashes (cost per hash at that throughput); latency: what one caller waits.',
  ];
}

function httpSection(http) {
  const measured = (target, ratio, goal) => [
    target.label,
    target.request,
    whole(target.requestsPerSecond),
    fixed(target.latencyMs.p50, 1),
    fixed(target.latencyMs.p99, 1),
    String(target.non2xx),
    String(target.errors),
    fixed(target.cpuMicrosPerRequest?.server, 0),
    fixed(target.serverRssMiB, 0),
    fixed(ratio, 2),
    goal,
  ];
  const rows = [measured(http.baseline, 1, '')];
  for (const target of http.targets) {
    if (target.skipped) rows.push([target.label, 'skipped', '', '', '', '', '', '', '', '', '']);
    else rows.push(measured(target, target.ratio, target.goalMet ? 'met' : 'NOT met'));
  }
  const skipped = http.targets
    .filter((target) => target.skipped)
    .map((target) => `  ${target.label}: ${target.skipped}`);
  return [
    `HTTP, autocannon: ${http.connections} connections; per target ${http.warmupSeconds} s warm-up, then ${http.seconds} s in ${http.rounds} interleaved slices; each server in its own child process on 127.0.0.1`,
    `  rate limits: ${http.rateLimits}`,
    `  response validation: ${http.responseValidation}`,
    ...table(
      [
        'target',
        'request',
        'req/s',
        'p50 ms',
        'p99 ms',
        'non-2xx',
        'errors',
        'server CPU µs/req',
        'server RSS MiB',
        'ratio',
        `goal ≥ ${http.goalRatio}`,
      ],
      rows,
    ),
    ...skipped,
  ];
}

function appSection(app) {
  return [
    ...table(
      ['path (autocannon, 10 connections, through an app in a child process)', 'req/s', 'requests', 'failures'],
      app.paths.map((path) => [path.label, whole(path.callsPerSecond), String(path.calls), String(path.failures)]),
    ),
    `  Through an app, SDK path ÷ direct query: ${fixed(app.sdkToDirect, 2)}; the floor ÷ direct query: ${fixed(app.floorToDirect, 2)}`,
  ];
}

function dataSection(data) {
  if (data.skipped) return [`Data API: skipped, ${data.skipped}`];
  const rows = [];
  for (const dataCase of data.cases) {
    for (const [target, ratio, goal] of [
      [dataCase.handwritten, 1, ''],
      [dataCase.idiomatic, dataCase.idiomatic.requestsPerSecond / dataCase.handwritten.requestsPerSecond, ''],
      [dataCase.plinth, dataCase.ratio, dataCase.goalMet ? 'met' : 'NOT met'],
    ]) {
      rows.push([
        target.label,
        whole(target.requestsPerSecond),
        fixed(target.latencyMs.p50, 1),
        fixed(target.latencyMs.p99, 1),
        String(target.non2xx),
        String(target.errors),
        fixed(target.cpuMicrosPerRequest?.server, 0),
        fixed(target.cpuMicrosPerRequest?.database, 0),
        fixed(target.serverRssMiB, 0),
        fixed(ratio, 2),
        goal,
      ]);
    }
  }
  return [
    `Data API vs a hand-written route, autocannon: ${data.connections} connections; per target ${data.warmupSeconds} s warm-up, then ${data.seconds} s in ${data.rounds} interleaved slices; each server in its own child process on 127.0.0.1, one PostgreSQL database`,
    `  request: ${data.request}`,
    `  hand-written: ${data.handwritten}`,
    `  rate limits: ${data.rateLimits}; response validation: ${data.responseValidation}`,
    `  CPU per request: ${data.cpu}`,
    ...table(
      [
        'target',
        'req/s',
        'p50 ms',
        'p99 ms',
        'non-2xx',
        'errors',
        'server CPU µs/req',
        'database CPU µs/req',
        'server RSS MiB',
        'ratio',
        `goal ≥ ${data.goalRatio}`,
      ],
      rows,
    ),
    '  ratio: ÷ the lean hand-written route in the same case (service role; signed-in user under row-level security).',
    ...data.cases.map(
      (dataCase) =>
        `  ${dataCase.name}: Plinth ÷ the idiomatic hand-written route ${fixed(dataCase.ratioToIdiomatic, 2)}`,
    ),
  ];
}

function sdkSection(data) {
  if (data.skipped) return [`SDK: skipped, ${data.skipped}`];
  const rows = data.paths.map((path) => [
    path.label,
    whole(path.callsPerSecond),
    String(path.calls),
    String(path.failures),
    path.clientCpuMicrosPerCall === undefined ? '–' : fixed(path.clientCpuMicrosPerCall, 0),
  ]);
  const verdict = (met) => (met ? 'met' : 'NOT met');
  return [
    `SDK, select by primary key: ${data.callers} callers looping in this process; per path ${data.warmupSeconds} s warm-up, then ${data.seconds} s in ${data.rounds} interleaved slices; the server in a child process`,
    `  ${data.query}`,
    ...table(['path', 'calls/s', 'calls', 'failures', 'client CPU µs/call'], rows),
    `  SDK path ÷ direct query: ${fixed(data.sdkToDirect, 2)} (context: issue 4's goal, replaced by the data section's); the server alone under autocannon ÷ direct query: ${fixed(data.serverToDirect, 2)}; the floor (fetch to a server that does no work) ÷ direct query: ${fixed(data.floorToDirect, 2)}`,
    ...appSection(data.throughApp),
    `  SDK over bare fetch of the same request: ${fixed(data.sdkOverhead.extra * 100, 1)} % extra time per call, the median of ${data.sdkOverhead.pairs} back-to-back pairs of ${data.sdkOverhead.pairSeconds} s (goal ≤ ${data.sdkOverhead.goal * 100} %: ${verdict(data.sdkOverhead.met)})`,
    `    quartiles ${data.sdkOverhead.quartiles.map((extra) => `${fixed(extra * 100, 1)} %`).join(' and ')}; from the interleaved run above: ${fixed(data.sdkOverhead.overall * 100, 1)} %; over a bare fetch with a 30 s timeout signal: ${fixed(data.sdkOverhead.overTimedFetch * 100, 1)} %`,
  ];
}

function timingSection(timing) {
  const ms = (sample) => `${fixed(sample.meanMs, 2)} ± ${fixed(sample.sdMs, 2)}`;
  const rows = [];
  for (const target of timing.targets) {
    if (target.skipped) {
      rows.push([target.label, 'skipped', '', '', '', '', '', '']);
      continue;
    }
    for (const route of target.routes) {
      rows.push([
        target.label,
        route.route,
        ms(route.known),
        ms(route.unknown),
        fixed(route.differenceMs, 3),
        fixed(route.z, 2),
        String(route.failures),
        route.met ? 'met' : 'NOT met',
      ]);
    }
  }
  return [
    `Account enumeration by timing: per route ${timing.samples} known and ${timing.samples} unknown emails, shuffled, one at a time, ${timing.pauseMs} ms apart, after ${timing.warmup} warm-up requests; the server in a child process`,
    `  rate limits: ${timing.rateLimits}`,
    ...table(
      [
        'target',
        'route',
        'known ms (mean ± sd)',
        'unknown ms',
        'known − unknown ms',
        "Welch's z",
        'failures',
        `goal |z| < ${timing.goalAbsZ}`,
      ],
      rows,
    ),
    ...timing.targets.filter((target) => target.skipped).map((target) => `  ${target.label}: ${target.skipped}`),
  ];
}

/** The report as text: machine, then one section per benchmark that ran. */
function embeddedSection(embedded) {
  return [
    `Embedded database (PGlite): SELECT … WHERE id = $1, ${embedded.callers} callers, ${embedded.seconds} s per path in alternating slices; then pg_sleep(${embedded.sleepSeconds}) on each`,
    ...table(
      ['path', 'statements/s', 'ratio', 'longest event-loop stall ms'],
      [
        [
          'PGlite on the calling thread (baseline)',
          whole(embedded.inThreadPerSecond),
          '1.00',
          fixed(embedded.stallInThreadMs, 0),
        ],
        [
          "the server's PGlite thread",
          whole(embedded.ownThreadPerSecond),
          fixed(embedded.ratio, 2),
          fixed(embedded.stallOwnThreadMs, 0),
        ],
      ],
    ),
    `  the hop between threads: ${fixed(embedded.hopMicroseconds, 0)} µs per statement at this throughput; a stall is the longest gap between 5 ms ticks of the event loop.`,
  ];
}

function clientSection(client) {
  const verdict = client.sdkRatio.met ? 'met' : 'NOT met';
  const quartiles = ([low, high], digits) => `${fixed(low, digits)}–${fixed(high, digits)}`;
  return [
    `Client CPU per read: ${client.callers} callers looping in this process against stub servers in a child process that answer at once; per path ${client.warmupSeconds} s warm-up, then ${client.rounds} rounds of one ${client.sliceSeconds} s slice, the order reversing each round; medians of the rounds`,
    `  Plinth SDK: ${client.reads.plinth} (${client.requests.plinth.method}, ${client.requests.plinth.bodyBytes} B body, ${client.requests.plinth.headers.length} headers)`,
    `  supabase-js: ${client.reads.supabase} (${client.requests.supabase.method}, ${client.requests.supabase.headers.length} headers)`,
    ...table(
      ['path', 'CPU µs/call', 'quartiles', 'calls', 'failures'],
      client.paths.map((path) => [
        path.label,
        fixed(path.cpuMicrosPerCall, 0),
        quartiles(path.quartiles, 0),
        String(path.calls),
        String(path.failures),
      ]),
    ),
    `  Plinth SDK ÷ supabase-js: ${fixed(client.sdkRatio.ratio, 2)} (quartiles ${quartiles(client.sdkRatio.quartiles, 2)}; goal ≤ ${client.sdkRatio.goal}: ${verdict}); their bare fetches: ${fixed(client.fetchRatio.ratio, 2)} (${quartiles(client.fetchRatio.quartiles, 2)})`,
    `  over a bare fetch of its own request: the SDK ${fixed(client.overFetchMicros.plinth, 0)} µs/call, supabase-js ${fixed(client.overFetchMicros.supabase, 0)} µs/call`,
  ];
}

export function formatReport({ date, machine, runSeconds, hashing, http, data, sdk, timing, embedded, client }) {
  const sections = [
    hashing && hashingSection(hashing),
    http && httpSection(http),
    data && dataSection(data),
    sdk && sdkSection(sdk),
    timing && timingSection(timing),
    embedded && embeddedSection(embedded),
    client && clientSection(client),
  ].filter(Boolean);
  return [
    '',
    `Plinth benchmarks, ${date} (${runSeconds} s after the build)`,
    `  ${machine.cpuModel}, nproc ${machine.nproc}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}, commit ${machine.commit}`,
    `  load average at start: ${machine.loadAverageAtStart.join(' ')}. One run on this machine: compare ratios, not absolute figures.`,
    '',
    ...sections.flatMap((lines) => [...lines, '']),
  ].join('\n');
}
