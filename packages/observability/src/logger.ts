import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** A structured JSON logger for one service; `service` is on every line. */
export function createLogger(service: string, level = 'info', options: LoggerOptions = {}): Logger {
  return pino({
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...options,
  });
}
