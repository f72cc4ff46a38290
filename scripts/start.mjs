// `npm start`: build, package the extension, and open the example workspace
// (examples/: the v8-like series and C files) in a real VS Code with the
// extension installed. The desktop `code` when it is on PATH; otherwise
// code-server (set up in the cache folder on first use) on 127.0.0.1, whose
// URL is printed. Ctrl+C stops the server.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { cacheDir, ensureApt } from './ensure.mjs';
import { ensure as ensureCodeServer } from './ensure-extra/code-server.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const workspace = path.join(root, 'examples');
const vsix = path.join(root, 'dist', 'iommufd-review.vsix');

function step(what, cmd, args, options = {}) {
  console.error(`» ${what}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...options });
  if (r.status !== 0) {
    console.error(`${what} failed`);
    process.exit(1);
  }
}

const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

function portFree(port) {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function pickPort() {
  const wanted = Number(process.env.IOMMUFD_REVIEW_PORT ?? 8080);
  if (await portFree(wanted)) return wanted;
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

step('building', process.execPath, [path.join(root, 'scripts/build.mjs'), '--no-tsc']);
step('packaging the extension', process.execPath, [
  path.join(root, 'node_modules/@vscode/vsce/vsce'),
  'package',
  '--no-dependencies',
  '--allow-missing-repository',
  '--no-rewrite-relative-links',
  '-o',
  vsix,
]);

if (onPath('code') && !process.env.IOMMUFD_REVIEW_USE_CODE_SERVER) {
  step('installing it into VS Code', 'code', ['--install-extension', vsix, '--force']);
  step(`opening ${workspace}`, 'code', [workspace]);
  process.exit(0);
}

const env = await ensureCodeServer({
  cacheDir,
  ensureApt,
  fail: (what, command) => {
    console.error(`${what} is missing: ${command}`);
    process.exit(1);
  },
});
const entry = env.IOMMUFD_REVIEW_CODE_SERVER;
const home = path.join(cacheDir, 'start');
const userDataDir = path.join(home, 'user');
const extensionsDir = path.join(home, 'extensions');
mkdirSync(userDataDir, { recursive: true });
const childEnv = { ...process.env, XDG_CONFIG_HOME: path.join(home, 'config') };
step(
  'installing it into code-server',
  process.execPath,
  [entry, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', vsix, '--force'],
  { env: childEnv },
);

const port = await pickPort();
const server = spawn(
  process.execPath,
  [
    entry,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    workspace,
  ],
  { env: childEnv, stdio: ['ignore', 'ignore', 'inherit'] },
);
const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`;
for (let i = 0; i < 240; i++) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    if (res.ok) break;
  } catch {
    /* starting */
  }
  if (server.exitCode !== null) {
    console.error('code-server stopped while starting');
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 250));
}
console.log(
  `\niommufd review is running in VS Code (code-server) with the examples workspace:\n\n  ${url}\n\nIn its Explorer (the workspace root is examples/), open c/toy_replace_detach_first.c or series/v8.mbox. Ctrl+C stops it.`,
);
const stop = () => {
  server.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
server.on('exit', (code) => process.exit(code ?? 0));
if (!existsSync(workspace)) console.error(`note: ${workspace} is missing`);
