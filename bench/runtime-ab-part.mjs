// One measurement of bench/runtime-ab.mjs, on the runtime that runs this file: prints one
// figure (events or requests per second) as its last line.
const part = process.argv[2];
const figure = {
  speed: async () => (await (await import('./speed.bench.mjs')).catchUp(1)).eventsPerSecond,
  api: async () => (await (await import('./api.bench.mjs')).run()).signals.requestsPerSecond,
  batch: async () => {
    process.env.BENCH_PARTS = 'recompute';
    return (await (await import('./batch.bench.mjs')).run()).recompute.eventsPerSecond;
  },
}[part];
if (!figure) throw new Error(`unknown part ${part}`);
console.log(JSON.stringify(await figure()));
process.exit(0);
