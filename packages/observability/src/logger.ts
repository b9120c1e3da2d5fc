import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** A structured JSON logger for one service; `service` is on every line (standard output unless `destination`). */
export function createLogger(service: string, level = 'info', options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const settings = { level, base: { service, pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, ...options };
  return destination ? pino(settings, destination) : pino(settings);
}
