// The demo site as a process: `node dist/node/demo-site-main.js --port 7007 --collector
// http://127.0.0.1:7001 --site <site key>` (what `npm start` runs). Prints its URL.
import { parseArgs } from 'node:util';
import { startDemoSite } from './demo-site.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '7007' },
    host: { type: 'string', default: '127.0.0.1' },
    collector: { type: 'string', default: 'http://127.0.0.1:7001' },
    site: { type: 'string', default: '' },
  },
});
const site = await startDemoSite({ host: values.host, port: Number(values.port), collectorUrl: values.collector, siteKey: values.site });
console.log(`demo site ${site.url}`);
const stop = () => void site.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
