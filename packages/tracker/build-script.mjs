// Bundles the browser tracker (src/browser) into ONE dependency-free, minified IIFE:
// dist/sigflow.js, which the collector serves at /sdk/sigflow.js. esbuild is pinned in
// package.json; the types were checked by `tsc -p tsconfig.browser.json` before this runs.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('./src/browser/main.ts', import.meta.url).pathname],
  outfile: new URL('./dist/sigflow.js', import.meta.url).pathname,
  bundle: true,
  format: 'iife',
  minify: true,
  target: ['es2018'],
  platform: 'browser',
  legalComments: 'none',
  banner: { js: '/* sigflow web tracker */' },
  logLevel: 'warning',
});
