// The Node face of @sigflow/tracker: the built browser script for the collector to serve, and
// the demo site `npm start` and the browser test run. The tracker itself is src/browser.
export { loadTrackerScript, type TrackerScript } from './tracker-script.js';
export { startDemoSite, trackerSnippet, type DemoSite, type DemoSiteOptions } from './demo-site.js';
export { TrackerScriptMissingError, DemoSiteError } from './errors.js';
