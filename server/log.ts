/**
 * Structured JSON logs (pino). Secrets never reach a log line: the redaction paths below cover
 * every field name the server uses for tokens, cookies and typed text, and frame bytes are
 * never passed to the logger at all.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export const REDACTED_LOG_PATHS = [
  'token',
  '*.token',
  'agentToken',
  'customerToken',
  '*.agentToken',
  '*.customerToken',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'cookie',
  '*.cookie',
  'text',
  '*.text',
  'input.text',
  'input.key',
  'input.code',
  'secret',
  '*.secret',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      name: 'vitrine',
      level,
      redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
