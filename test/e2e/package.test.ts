/**
 * The packaged extension: `vsce package` on the built tree gives a .vsix with
 * both entries and both wasm files, the webview and the grammar, and none of
 * the sources, tests or fixtures. Its size is printed for the README.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { packageVsix } from './harness';

/** Names and sizes of a zip's entries, read from its central directory. */
function zipEntries(buf: Buffer): Map<string, { size: number; data: () => Buffer }> {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  assert.ok(eocd >= 0, 'not a zip file');
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const out = new Map<string, { size: number; data: () => Buffer }>();
  for (let i = 0; i < count; i++) {
    assert.equal(buf.readUInt32LE(at), 0x02014b50);
    const method = buf.readUInt16LE(at + 10);
    const csize = buf.readUInt32LE(at + 20);
    const size = buf.readUInt32LE(at + 24);
    const nameLen = buf.readUInt16LE(at + 28);
    const extraLen = buf.readUInt16LE(at + 30);
    const commentLen = buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.subarray(at + 46, at + 46 + nameLen).toString('utf8');
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    out.set(name, {
      size,
      data: () =>
        method === 0 ? buf.subarray(start, start + csize) : inflateRawSync(buf.subarray(start, start + csize)),
    });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

test('the .vsix holds the extension, the wasm, the webview and the grammar, and no sources or tests', () => {
  const file = packageVsix();
  const buf = readFileSync(file);
  const entries = zipEntries(buf);
  const names = [...entries.keys()];
  for (const wanted of [
    'extension/package.json',
    'extension/dist/extension.js',
    // What dist/extension.js requires on first use (patch mails, the simulator, commands, review sessions).
    'extension/dist/extension-features.js',
    // The language client, required by dist/extension.js after activate() returned.
    'extension/dist/language-client.js',
    // The repair search's worker thread (Node hosts).
    'extension/dist/repair-worker.js',
    // The language server the extension starts in a child process (Node hosts).
    'extension/dist/lsp-server.js',
    // What the extension forks: the server through V8's code cache.
    'extension/dist/lsp-start.js',
    'extension/dist/web/extension.js',
    // The language server in a Web Worker (the browser host).
    'extension/dist/web/lsp-server.js',
    'extension/dist/tree-sitter.wasm',
    'extension/dist/tree-sitter-c.wasm',
    'extension/media/webview.js',
    'extension/media/webview.css',
    'extension/syntaxes/iommufd-patch.tmLanguage.json',
    'extension/readme.md',
    // Diagnostics link to the rule sections of this file.
    'extension/docs/engine.md',
  ]) {
    assert.ok(
      names.some((n) => n.toLowerCase() === wanted.toLowerCase()),
      `${wanted} is in the .vsix (has: ${names.join(', ')})`,
    );
  }
  const leaked = names.filter(
    (n) =>
      /^extension\/(src|test|out|scripts|node_modules|examples|test-artifacts)\//.test(n) ||
      /\.(ts|map)$/.test(n) ||
      /screenshots\//.test(n),
  );
  assert.deepEqual(leaked, []);
  // The wasm is the real grammar (magic number), not a pointer file.
  assert.deepEqual(
    [...entries.get('extension/dist/tree-sitter-c.wasm')!.data().subarray(0, 4)],
    [0x00, 0x61, 0x73, 0x6d],
  );
  const manifest = JSON.parse(entries.get('extension/package.json')!.data().toString('utf8')) as {
    main: string;
    browser: string;
    activationEvents: string[];
  };
  assert.equal(manifest.main, './dist/extension.js');
  assert.equal(manifest.browser, './dist/web/extension.js');
  // Never `*`: a C file, a patch mail, the panel, or a kernel checkout with iommufd (the server starts while
  // the user navigates; docs/extension.md, Activation).
  assert.deepEqual(manifest.activationEvents, [
    'onLanguage:c',
    'onLanguage:cpp',
    'onLanguage:iommufd-patch',
    'onWebviewPanel:iommufd.simulator',
    'workspaceContains:drivers/iommu/iommufd/Makefile',
  ]);
  const unpacked = [...entries.values()].reduce((n, e) => n + e.size, 0);
  console.log(
    `iommufd-review.vsix: ${(buf.length / 1024).toFixed(0)} KiB packed, ${(unpacked / 1024).toFixed(0)} KiB unpacked, ${names.length} files`,
  );
  assert.ok(buf.length < 2 * 1024 * 1024, `the .vsix stays small (${buf.length} bytes)`);
});
