// `npm run test:electron`: the extension-host suite (dist/test/index.js, the
// same module the e2e tests run inside code-server) under a desktop VS Code
// downloaded by @vscode/test-electron. Needs internet for the first download,
// so it is not part of `npm test`; on machines without it, the code-server
// route (test/e2e/extension-host.test.ts) covers the same module.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runTests } from '@vscode/test-electron';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const workspace = mkdtempSync(path.join(os.tmpdir(), 'iommufd-electron-'));
cpSync(path.join(root, 'test/fixtures/e2e-workspace'), workspace, { recursive: true });
try {
  await runTests({
    // 1.90 is the oldest VS Code the extension supports (engines.vscode).
    version: process.env.IOMMUFD_REVIEW_VSCODE_VERSION ?? '1.90.2',
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'dist/test/index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
  });
  console.log('extension-host suite passed under @vscode/test-electron');
} catch (e) {
  console.error(`extension-host suite failed: ${e instanceof Error ? e.message : e}`);
  process.exitCode = 1;
} finally {
  rmSync(workspace, { recursive: true, force: true });
}
