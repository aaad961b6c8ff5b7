// Prints one line naming the browser the browser tests will use, as .ci/run does before `npm test`; or,
// with exit code 1, the line that says what to set or install. Nothing is unpacked or launched here.
//   node_modules/.bin/tsx test/which-browser.ts
import { chooseBrowser } from '#test/fixtures/browser.ts';
import { BrowserNotFound, describeBrowser } from '#test/fixtures/browser-resolve.ts';

try {
  process.stdout.write(`${describeBrowser(chooseBrowser())}\n`);
} catch (error) {
  if (!(error instanceof BrowserNotFound)) throw error;
  process.stdout.write(`browser: none. ${error.message}\n`);
  process.exitCode = 1;
}
