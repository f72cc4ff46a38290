/**
 * Runs the extension-host suite (test/extension-host/index.ts, bundled as
 * dist/test/index.js) inside code-server's Node extension host: the workbench
 * is opened with extensionDevelopmentPath/extensionTestsPath, and the suite's
 * result arrives through codeAutomationExit, as in design.md route A step 7.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { openBrowser, ROOT, runExtensionHostModule, screenshot, serve, type Browsing, type Served } from './harness';

let served: Served;
let b: Browsing;

before(async () => {
  assert.ok(existsSync(path.join(ROOT, 'dist/test/index.js')), 'dist/test/index.js is built (node scripts/build.mjs)');
  served = await serve({ fixture: path.join(ROOT, 'test/fixtures/e2e-workspace') });
  b = await openBrowser();
});

after(async () => {
  await b?.close();
  await served?.close();
});

test("the extension-host suite passes in code-server's extension host", async () => {
  const { code, lines } = await runExtensionHostModule(served, b);
  await screenshot(b.page, '07-extension-host-suite').catch(() => undefined);
  const report = lines.filter((l) => /ok - |passed, |not ok|Error/.test(l)).join('\n');
  assert.notEqual(
    code,
    -1,
    `the suite did not finish in 5 minutes:\n${lines.slice(-40).join('\n')}\n${served.log().slice(-2000)}`,
  );
  assert.equal(code, 0, `extension-host suite failed:\n${report || lines.slice(-60).join('\n')}`);
  assert.match(report, /\d+ passed, 0 failed/);
  console.log(report);
});
