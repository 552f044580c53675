// Once per `vitest run` of the e2e project, before its files: make sure dist/playground is a
// build of the current sources. Where the browser is missing (and not in CI) nothing is built:
// every test skips and says why.
//
// Nothing here throws: an error in a global setup aborts the whole run, unit tests included.
// A missing browser under CI, or a build that fails, is reported by each e2e file instead
// (chromiumMissing() throws at import, startSession() builds again and throws the build error).
import { chromiumMissing } from './browser.js';
import { ensureSiteBuilt } from './site.js';

export default function setup(): void {
  try {
    const missing = chromiumMissing();
    if (missing) {
      console.log(`playground browser tests skipped: ${missing}`);
      return;
    }
    const r = ensureSiteBuilt();
    if (r.built) console.log(`playground built into dist/playground in ${(r.ms / 1000).toFixed(1)} s (${r.why})`);
  } catch (err) {
    console.log(`playground browser tests will fail: ${(err as Error).message}`);
  }
}
