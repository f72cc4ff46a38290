// Builds every bundle whose entry exists: the CLI, the extension (node and
// browser entries), the webview UI; copies the two wasm files next to them.
// Then type-checks and compiles sources and tests into out/ for node --test.
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, chmodSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const at = (p) => path.join(root, p);
const skipTsc = process.argv.includes('--no-tsc');

// esbuild picks web-tree-sitter's ESM build, which crashes in Parser.init once
// bundled as CommonJS: point it at the package's CommonJS file instead.
const webTreeSitterCjs = require.resolve('web-tree-sitter');
const common = {
  bundle: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  alias: { 'web-tree-sitter': webTreeSitterCjs },
  // The parser packages' versions, fixed at build time: part of the index's engine version
  // (src/engine/node/engine-version.ts) wherever the bundle is run from.
  define: {
    IOMMUFD_REVIEW_PARSER_VERSIONS: JSON.stringify(
      ['web-tree-sitter', 'tree-sitter-c', 'tree-sitter']
        // Read from node_modules by path: web-tree-sitter's `exports` does not list its package.json.
        .map((pkg) => `${pkg}@${JSON.parse(readFileSync(at(`node_modules/${pkg}/package.json`), 'utf8')).version}`)
        .join(','),
    ),
  },
};

const targets = [
  // What `iommufd-review` runs: dist/cli-main.js through V8's code cache (src/engine/node/code-cache.ts).
  { entry: 'src/cli/start.ts', out: 'dist/cli.js', platform: 'node', banner: '#!/usr/bin/env node' },
  {
    entry: 'src/cli/main.ts',
    out: 'dist/cli-main.js',
    platform: 'node',
    external: ['tree-sitter', 'tree-sitter-c', 'vscode'],
  },
  // The CLI's worker threads (src/engine/node/facts-workers.ts starts facts-worker.js from beside cli.js):
  // dist/facts-worker-main.js through the code cache.
  { entry: 'src/engine/node/facts-worker-start.ts', out: 'dist/facts-worker.js', platform: 'node' },
  {
    entry: 'src/engine/node/facts-worker.ts',
    out: 'dist/facts-worker-main.js',
    platform: 'node',
    external: ['tree-sitter', 'tree-sitter-c'],
  },
  { entry: 'src/extension/node-entry.ts', out: 'dist/extension.js', platform: 'node', external: ['vscode'] },
  // What a C file's diagnostics do not need (patch mails, the simulator, commands, review sessions): required by
  // dist/extension.js on first use, so the extension host loads less before activate() (src/extension/deferred-features.ts).
  // The language client, required by dist/extension.js after activate() returned.
  {
    entry: 'src/extension/node-client.ts',
    out: 'dist/language-client.js',
    platform: 'node',
    external: ['vscode'],
  },
  {
    entry: 'src/extension/node-features.ts',
    out: 'dist/extension-features.js',
    platform: 'node',
    external: ['vscode'],
  },
  // The repair search's worker thread (src/lsp/repair-thread.ts loads it from beside the extension, the server or the CLI).
  { entry: 'src/lsp/repair-worker.ts', out: 'dist/repair-worker.js', platform: 'node' },
  // The language server the extension starts in a Node child process (src/extension/node-entry.ts, beside extension.js).
  // The native tree-sitter binding is never loaded by it (the editor parses with wasm) and is not shipped.
  {
    entry: 'src/lsp/node-server.ts',
    out: 'dist/lsp-server.js',
    platform: 'node',
    external: ['tree-sitter', 'tree-sitter-c'],
  },
  // What the extension forks: lsp-server.js through V8's code cache in the extension's global storage.
  { entry: 'src/lsp/node-server-start.ts', out: 'dist/lsp-start.js', platform: 'node' },
  {
    entry: 'src/extension/web-entry.ts',
    out: 'dist/web/extension.js',
    platform: 'browser',
    external: ['vscode'],
    browserNode: true,
  },
  // The language server in a Web Worker, for the browser host (src/extension/web-entry.ts starts it).
  {
    entry: 'src/lsp/web-server.ts',
    out: 'dist/web/lsp-server.js',
    platform: 'browser',
    format: 'iife',
    browserNode: true,
  },
  { entry: 'src/webview/main.ts', out: 'media/webview.js', platform: 'browser', format: 'iife' },
  { entry: 'test/extension-host/index.ts', out: 'dist/test/index.js', platform: 'node', external: ['vscode'] },
  {
    entry: 'test/extension-host/web-index.ts',
    out: 'dist/test/web-index.js',
    platform: 'browser',
    external: ['vscode'],
    browserNode: true,
  },
];

mkdirSync(at('dist'), { recursive: true });
await Promise.all(
  targets
    .filter((t) => existsSync(at(t.entry)))
    .map((t) =>
      esbuild.build({
        ...common,
        entryPoints: [at(t.entry)],
        outfile: at(t.out),
        platform: t.platform,
        format: t.format ?? 'cjs',
        target: t.platform === 'node' ? 'node20' : 'es2022',
        external: t.external ?? [],
        banner: t.banner ? { js: t.banner } : undefined,
        // web-tree-sitter's CommonJS file requires fs/path/module only under Node.
        ...(t.browserNode
          ? {
              alias: {
                ...common.alias,
                fs: at('scripts/empty.cjs'),
                path: at('scripts/empty.cjs'),
                module: at('scripts/empty.cjs'),
                'fs/promises': at('scripts/empty.cjs'),
              },
            }
          : {}),
      }),
    ),
);
if (existsSync(at('dist/cli.js'))) chmodSync(at('dist/cli.js'), 0o755);
for (const [from, to] of [
  ['web-tree-sitter/tree-sitter.wasm', 'dist/tree-sitter.wasm'],
  ['tree-sitter-c/tree-sitter-c.wasm', 'dist/tree-sitter-c.wasm'],
])
  copyFileSync(require.resolve(from), at(to));

// out/ is emptied first: a test whose source was deleted or renamed would
// otherwise still run from its old compiled file.
if (!skipTsc) rmSync(at('out'), { recursive: true, force: true });
if (!skipTsc)
  execFileSync(process.execPath, [at('node_modules/typescript/bin/tsc'), '-p', at('tsconfig.json')], {
    stdio: 'inherit',
    cwd: root,
  });
