/**
 * Structured logging (pino) with the field names every Loom process uses, so one query works across the
 * controller and all proxies:
 *
 * | field | meaning |
 * |---|---|
 * | `component` | emitting part: `identity`, `policy`, `inbound`, `outbound`, `admin`, `ca` ... |
 * | `event` | stable machine-readable event name, e.g. `certify.refused`, `certificate.renewed` |
 * | `identity` | a SPIFFE ID the event is about |
 * | `peer` | remote address (`ip:port`) |
 * | `reason` | human-readable why, for refusals and failures |
 * | `err` | an Error (pino's serializer) |
 *
 * Output is JSON lines on stdout (pino's default); `level` comes from the caller (flag, annotation, env).
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const isLogLevel = (value: string): value is LogLevel => (LOG_LEVELS as readonly string[]).includes(value);

export interface LogOptions {
  /** Process name, e.g. `loom-controller`, `loom-proxy`. */
  readonly name: string;
  readonly level?: LogLevel;
  /** Where lines go; stdout when omitted. Tests pass a stream to read what was logged. */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LogOptions): Logger {
  const config: LoggerOptions = {
    name: options.name,
    level: options.level ?? 'info',
    base: { name: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return options.destination === undefined ? pino(config) : pino(config, options.destination);
}

/** A logger that discards everything (library defaults; tests that do not read logs). */
export const silentLogger = (): Logger => pino({ level: 'silent' });
