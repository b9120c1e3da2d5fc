import { describe, expect, it } from 'vitest';
import { CliError, parseCliArgs, parseDuration } from '../src/cli-args.js';

const now = Date.UTC(2025, 0, 1);

describe('parseCliArgs', () => {
  it('reads the issue example: rate x duration events, live span from now', () => {
    const s = parseCliArgs(['--rate', '5000', '--duration', '60', '--seed', '7'], now);
    expect(s.rate).toBe(5000);
    expect(s.generator).toMatchObject({ seed: 7, events: 300_000, span: 60_000, start: now });
    expect(s.sink).toBe('kafka');
    expect(s.pregenerate).toBe(false);
  });

  it('reads every option', () => {
    const s = parseCliArgs(
      [
        '--events', '1000', '--rate', '0', '--span', '2h', '--start', '2025-03-01T00:00:00Z', '--users', '50',
        '--campaigns', '3', '--ads-per-campaign', '2', '--pages', '5', '--partitions', '8', '--late', '0.1',
        '--out-of-order', '0.05', '--duplicates', '0.01', '--bots', '0.02', '--floods', '0.03', '--orphans', '0.04',
        '--too-fast', '0.05', '--nats', '0.06', '--botnet-users', '50', '--sink', 'http', '--collector', 'http://127.0.0.1:7001',
        '--api-key', 'k', '--concurrency', '2', '--producer-threads', '3', '--send-size', '900', '--in-flight', '6', '--linger-ms', '5',
        '--truth', 'out.json', '--quiet', '--pregenerate',
      ],
      now,
    );
    expect(s.generator).toEqual({
      seed: 1, events: 1000, start: Date.UTC(2025, 2, 1), span: 7_200_000, users: 50, campaigns: 3, adsPerCampaign: 2,
      pages: 5, partitions: 8, bots: 0.02, floods: 0.03, late: 0.1, outOfOrder: 0.05, duplicates: 0.01, orphans: 0.04,
      tooFast: 0.05, nats: 0.06, botnetUsers: 50,
    });
    expect(s).toMatchObject({
      rate: 0, sink: 'http', collector: 'http://127.0.0.1:7001', apiKey: 'k', concurrency: 2, truth: 'out.json', quiet: true, pregenerate: true,
      producerThreads: 3, sendSize: 900, inFlight: 6, lingerMs: 5,
    });
  });

  it('takes --producer-threads 0 (send from the main thread) but no negative count', () => {
    expect(parseCliArgs(['--producer-threads', '0'], now).producerThreads).toBe(0);
    expect(() => parseCliArgs(['--producer-threads', '-1'], now)).toThrow(/--producer-threads/);
  });

  it('puts an as-fast-as-possible run in the past, spanning 10 ms per event (1 h to 7 d)', () => {
    const s = parseCliArgs(['--rate', '0', '--events', '1000000'], now);
    expect(s.generator).toMatchObject({ span: 10_000_000, start: now - 10_000_000 });
    expect(parseCliArgs(['--rate', '0', '--events', '1000'], now).generator.span).toBe(3_600_000);
    expect(parseCliArgs(['--rate', '0', '--events', '1000000000'], now).generator.span).toBe(7 * 86_400_000);
  });

  it('explains bad flags', () => {
    const bad: [string[], RegExp][] = [
      [['--rate', 'fast'], /--rate/],
      [['--late', '2'], /--late must be a fraction/],
      [['--events', '1.5'], /--events must be an integer/],
      [['--duration', 'soon'], /--duration must be a duration/],
      [['--sink', 'kinesis'], /--sink must be kafka, http or none/],
      [['--collector', 'not a url'], /--collector must be a URL/],
      [['--rate', '0'], /needs --events/],
      [['--start', 'yesterday-ish'], /--start/],
      [['--nope'], /Unknown option/],
    ];
    for (const [argv, message] of bad) expect(() => parseCliArgs(argv, now)).toThrow(message);
    expect(() => parseCliArgs(['--bots', 'x'], now)).toThrow(CliError);
  });

  it('reads durations with units', () => {
    expect(parseDuration('d', '90')).toBe(90_000);
    expect(parseDuration('d', '500ms')).toBe(500);
    expect(parseDuration('d', '15m')).toBe(900_000);
    expect(parseDuration('d', '7d')).toBe(604_800_000);
    expect(() => parseDuration('d', '0')).toThrow(/positive/);
  });
});
