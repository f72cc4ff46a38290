// Prerequisites of the end-to-end tests: Chromium (apt) and code-server
// 4.100.3 (VS Code 1.100's server and web client), installed into the cache
// folder, never into the project's node_modules. code-server's own postinstall
// fails as root and wants to download prebuilt binaries, so its steps are done
// by hand here (see design.md, "Testing in a real VS Code without internet").
// Idempotent: a marker file records a completed install.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, lstatSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';

const VERSION = '4.100.3';
const CHROMIUM = '/usr/bin/chromium';

function run(cmd, args, cwd, extraEnv = {}) {
  const env = {
    ...process.env,
    npm_config_nodedir: '/usr',
    npm_config_yes: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    ...extraEnv,
  };
  const r = spawnSync(cmd, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed:\n${(r.stderr ?? '').slice(-4000)}`);
}

// Replaces whatever is at `at` with a symlink to `target`.
function link(target, at) {
  try {
    lstatSync(at);
    rmSync(at, { recursive: true, force: true });
  } catch {
    /* nothing there yet */
  }
  mkdirSync(path.dirname(at), { recursive: true });
  symlinkSync(target, at);
}

function install(root) {
  const tmp = `${root}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ name: 'code-server-cache', private: true }));
  run('npm', ['install', '--ignore-scripts', '--no-save', `code-server@${VERSION}`], tmp);
  const cs = path.join(tmp, 'node_modules/code-server');
  const vs = path.join(cs, 'lib/vscode');
  run('npm', ['install', '--omit=dev', '--ignore-scripts'], vs);
  run(
    'npm',
    ['rebuild', 'kerberos', '@parcel/watcher', '@vscode/spdlog', '@vscode/deviceid', 'native-watchdog', 'node-pty'],
    vs,
  );
  link('/usr/bin/rg', path.join(vs, 'node_modules/@vscode/ripgrep/bin/rg'));
  link('node_modules', path.join(vs, 'node_modules.asar'));
  link('code-linux.sh', path.join(vs, 'bin/remote-cli/code-server'));
  link('browser-linux.sh', path.join(vs, 'bin/helpers/browser.sh'));
  run('npm', ['install', '--omit=dev', '--ignore-scripts'], path.join(vs, 'extensions'));
  // npm hoists argon2 to the cache folder's own node_modules: rebuild it there.
  run('npm', ['rebuild', 'argon2', '--build-from-source'], tmp);
  if (!existsSync(path.join(tmp, 'node_modules/argon2/lib/binding/napi-v3/argon2.node')))
    throw new Error('argon2 was not built');
  writeFileSync(path.join(tmp, '.complete'), `${VERSION}\n`);
  rmSync(root, { recursive: true, force: true });
  // The install has relative symlinks only, so the folder can move.
  renameSync(tmp, root);
}

export async function ensure({ cacheDir, ensureApt, fail }) {
  ensureApt(
    ['libkrb5-dev', 'libsecret-1-dev', 'libxkbfile-dev', 'libx11-dev', 'ripgrep', 'chromium'],
    () =>
      existsSync(CHROMIUM) &&
      existsSync('/usr/bin/rg') &&
      existsSync('/usr/include/krb5.h') &&
      existsSync('/usr/include/libsecret-1') &&
      existsSync('/usr/include/X11/extensions/XKBfile.h') &&
      existsSync('/usr/include/X11/Xlib.h'),
    'chromium and the build headers of code-server',
  );
  const root = path.join(cacheDir, 'code-server');
  const entry = path.join(root, 'node_modules/code-server/out/node/entry.js');
  if (!existsSync(path.join(root, '.complete')) || !existsSync(entry)) {
    console.error(`installing code-server ${VERSION} into ${root} (a few minutes, once)`);
    try {
      install(root);
    } catch (e) {
      fail(
        `code-server ${VERSION} (${e instanceof Error ? e.message : String(e)})`,
        `npm install --ignore-scripts code-server@${VERSION} in ${root}, then the steps in design.md`,
      );
    }
  }
  return { IOMMUFD_REVIEW_CODE_SERVER: entry, IOMMUFD_REVIEW_CHROMIUM: CHROMIUM };
}
