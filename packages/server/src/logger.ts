import { type Logger, pino } from 'pino';

/**
 * The server's structured JSON logger. Secrets never reach it by construction (requests are
 * logged as method, path and status only); the redact list is the second line of defence for
 * fields a future log call might add by mistake.
 *
 * @example
 * ```ts
 * const logger = createLogger(process.env.LOG_LEVEL ?? 'info');
 * ```
 */
export function createLogger(level: string = 'info'): Logger {
  return pino({
    level,
    base: { service: 'plinth' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'password',
        '*.password',
        'token',
        '*.token',
        'accessToken',
        '*.accessToken',
        'refreshToken',
        '*.refreshToken',
        'serviceKey',
        '*.serviceKey',
        'authorization',
        '*.authorization',
        'cookie',
        '*.cookie',
        'headers',
        '*.headers',
      ],
      censor: '[redacted]',
    },
  });
}
