/**
 * What the VS Code extension relies on from the language server, over the
 * server entry it starts (dist/lsp-server.js, src/lsp/node-server.ts), driven
 * by vscode-jsonrpc like any client: the `iommufd/status` notifications the
 * status bar shows (only when asked for), `iommufd/settled`,
 * `iommufd/fileModel`, the persistent index (`--index`) and `--no-config`;
 * and the verified-fix code action, as any client (Neovim, eglot) gets it
 * from `iommufd-review lsp --stdio`.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { CodeAction, Diagnostic, TextEdit } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { AnalysisStatus } from '../../../src/lsp/protocol';
import {
  cliBundle,
  extensionServerBundle,
  extensionStartBundle,
  fileUri,
  repoRoot,
  startServer,
  type LspSession,
} from './lsp-client';

const EXAMPLE = path.join(repoRoot, 'examples/c/toy_replace_detach_first.c');
const MDEV = path.join(repoRoot, 'examples/c/toy_mdev.c');

function tempDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommufd-lsp-ext-'));
  for (const [name, from] of Object.entries(files)) copyFileSync(from, path.join(dir, name));
  return dir;
}

async function open(s: LspSession, file: string): Promise<string> {
  const uri = fileUri(file);
  const text = readFileSync(file, 'utf8');
  await s.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version: 1, text } });
  return uri;
}

/** A status as one line: the phase and the counts the status bar shows. */
function said(s: AnalysisStatus): string {
  switch (s.phase) {
    case 'reading':
      return `reading ${s.progress?.done}/${s.progress?.total} from-index=${s.progress?.fromIndex}`;
    case 'analysing':
      return `analysing open=${s.files?.open} context=${s.files?.context}`;
    case 'ready':
      return `ready open=${s.files?.open} context=${s.files?.context} findings=${s.findings} parsed=${s.coverage?.functions.parsed}`;
    default:
      return s.phase;
  }
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const statusClient = { experimental: { iommufdStatus: true } };
const lastReadyWithContext = (s: LspSession) => () =>
  s.statuses.find((x) => x.phase === 'ready' && (x.files?.context ?? 0) > 0);

describe("lsp: what the VS Code extension's client uses", () => {
  test('iommufd/status says, in order: loading, own-file result, context read with counts, the result with it', async () => {
    const dir = tempDir({ 'toy_replace_detach_first.c': EXAMPLE, 'toy_mdev.c': MDEV });
    // explicit settings: no workspace/configuration round trip that could start a second run
    const s = await startServer({
      args: [extensionServerBundle, '--stdio'],
      rootUri: fileUri(dir),
      capabilities: statusClient,
      initializationOptions: {},
    });
    try {
      await open(s, path.join(dir, 'toy_replace_detach_first.c'));
      await until('the result with the context', lastReadyWithContext(s));
      assert.deepEqual(s.statuses.map(said), [
        'loading',
        'analysing open=1 context=0',
        'ready open=1 context=0 findings=1 parsed=3',
        'reading 0/1 from-index=0',
        'reading 1/1 from-index=0',
        'analysing open=1 context=1',
        'ready open=1 context=1 findings=1 parsed=3',
      ]);
      // the own file's diagnostics were pushed before the context was read, and again with it
      assert.equal(s.published.filter((p) => p.uri.endsWith('/toy_replace_detach_first.c')).length, 2);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a client that does not ask for iommufd/status gets none', async () => {
    const dir = tempDir({ 'toy_replace_detach_first.c': EXAMPLE });
    const s = await startServer({ args: [extensionServerBundle, '--stdio'], rootUri: fileUri(dir) });
    try {
      const uri = fileUri(path.join(dir, 'toy_replace_detach_first.c'));
      const got = s.diagnostics(uri, (d) => d.length > 0);
      await open(s, path.join(dir, 'toy_replace_detach_first.c'));
      await got;
      await s.conn.sendRequest('iommufd/settled', {});
      assert.deepEqual(s.statuses, []);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('iommufd/settled answers after the diagnostics of every edit sent before it; reanalyze publishes again', async () => {
    const dir = tempDir({ 'toy_replace_detach_first.c': EXAMPLE });
    const file = path.join(dir, 'toy_replace_detach_first.c');
    // a long debounce: settled must wait for the pending run, not answer with the old result
    const s = await startServer({
      args: [extensionServerBundle, '--stdio'],
      rootUri: fileUri(dir),
      initializationOptions: { analysis: { debounceMs: 300 } },
    });
    try {
      const uri = await open(s, file);
      await s.conn.sendRequest('iommufd/settled', {});
      const ubr = (p: { diagnostics: Diagnostic[] }) => p.diagnostics.filter((d) => d.code === 'unmap-before-rollback');
      assert.equal(ubr(s.published.at(-1)!).length, 1);
      // the merged order: the detach line moved after the error block (one edit replacing the whole body text)
      const text = readFileSync(file, 'utf8');
      const lines = text.split('\n');
      const detach = lines.findIndex((l) => /^\ttoy_detach_locked\(/.test(l));
      assert.ok(detach > 0, 'the example has its detach line');
      const close = lines.findIndex((l, i) => i > detach && /^\t}$/.test(l));
      const merged = [...lines];
      const [moved] = merged.splice(detach, 1);
      merged.splice(close, 0, moved);
      await s.conn.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: 2 },
        contentChanges: [{ text: merged.join('\n') }],
      });
      const before = s.published.length;
      await s.conn.sendRequest('iommufd/settled', {});
      assert.ok(s.published.length > before, 'the edit was published before settled answered');
      assert.equal(s.published.at(-1)!.version, 2);
      assert.deepEqual(ubr(s.published.at(-1)!), []);
      const again = s.published.length;
      await s.conn.sendRequest('iommufd/settled', { reanalyze: true });
      assert.equal(s.published.length, again + 1, 'reanalyze published once more');
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('iommufd/fileModel answers the model of an open file and of a context file, null for one not held', async () => {
    const dir = tempDir({ 'toy_replace_detach_first.c': EXAMPLE, 'toy_mdev.c': MDEV });
    const s = await startServer({
      args: [extensionServerBundle, '--stdio'],
      rootUri: fileUri(dir),
      capabilities: statusClient,
      initializationOptions: {},
    });
    try {
      await open(s, path.join(dir, 'toy_replace_detach_first.c'));
      await until('the result with the context', lastReadyWithContext(s));
      type Model = { functions: { name: string; line: number }[] } | null;
      const own = (await s.conn.sendRequest('iommufd/fileModel', {
        file: path.join(dir, 'toy_replace_detach_first.c'),
      })) as Model;
      assert.ok(own?.functions.some((f) => f.name === 'toy_replace_detach_first'));
      const context = (await s.conn.sendRequest('iommufd/fileModel', { file: path.join(dir, 'toy_mdev.c') })) as Model;
      assert.ok(context && context.functions.length > 0, 'the context file is modelled');
      assert.equal(await s.conn.sendRequest('iommufd/fileModel', { file: path.join(dir, 'absent.c') }), null);
      await assert.rejects(s.conn.sendRequest('iommufd/fileModel', {}), /needs the file's engine key/);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // the extension's server entry, and the CLI's `lsp` that other editors run: the same index option
  for (const [entry, command] of [
    ['dist/lsp-server.js', [extensionServerBundle, '--stdio']],
    ['iommufd-review lsp', [cliBundle, 'lsp', '--stdio']],
  ] as const)
    test(`${entry} --index DIR: a second session takes the context file from the index, with the same findings`, async () => {
      const dir = tempDir({ 'toy_replace_detach_first.c': EXAMPLE, 'toy_mdev.c': MDEV });
      const index = mkdtempSync(path.join(os.tmpdir(), 'iommufd-lsp-index-'));
      const session = async (): Promise<{ reading: string[]; diagnostics: Diagnostic[]; logs: string[] }> => {
        const s = await startServer({
          args: [...command, '--index', index],
          rootUri: fileUri(dir),
          capabilities: statusClient,
          initializationOptions: {},
        });
        try {
          await open(s, path.join(dir, 'toy_replace_detach_first.c'));
          await until('the result with the context', lastReadyWithContext(s));
          return {
            reading: s.statuses.filter((x) => x.phase === 'reading').map(said),
            diagnostics: s.published.at(-1)!.diagnostics,
            logs: s.logs,
          };
        } finally {
          await s.close();
        }
      };
      try {
        const cold = await session();
        const warm = await session();
        assert.deepEqual(cold.reading, ['reading 0/1 from-index=0', 'reading 1/1 from-index=0']);
        assert.deepEqual(warm.reading, ['reading 0/1 from-index=0', 'reading 1/1 from-index=1']);
        assert.ok(warm.logs.includes('read 1 context file(s), 1 of them from the index'), warm.logs.join('\n'));
        assert.deepEqual(warm.diagnostics, cold.diagnostics);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        rmSync(index, { recursive: true, force: true });
      }
    });

  test('--index DIR: the same text opened again shows the own diagnostics the index remembers, equal to a fresh analysis; a changed text or setting is analysed afresh', async () => {
    const dir = tempDir({ 'toy_replace_detach_first.c': EXAMPLE, 'toy_mdev.c': MDEV });
    const file = path.join(dir, 'toy_replace_detach_first.c');
    const index = mkdtempSync(path.join(os.tmpdir(), 'iommufd-lsp-index-'));
    const session = async (
      initializationOptions: Record<string, unknown>,
    ): Promise<{ statuses: string[]; first: Diagnostic[]; logs: string[] }> => {
      const s = await startServer({
        args: [extensionServerBundle, '--stdio', '--index', index],
        rootUri: fileUri(dir),
        capabilities: statusClient,
        initializationOptions,
      });
      try {
        await open(s, file);
        await until('the result with the context', lastReadyWithContext(s));
        return { statuses: s.statuses.map(said), first: s.published[0].diagnostics, logs: s.logs };
      } finally {
        await s.close();
      }
    };
    const withContext = ['analysing open=1 context=1', 'ready open=1 context=1 findings=1 parsed=3'];
    try {
      const cold = await session({});
      assert.deepEqual(
        cold.first.map((d) => d.code),
        ['unmap-before-rollback'],
      );
      const warm = await session({});
      // no own-file analysis: the remembered answer, then the context from the index and the analysis with it
      assert.deepEqual(warm.statuses, [
        'loading',
        'ready open=1 context=0 findings=1 parsed=3',
        'reading 0/1 from-index=0',
        'reading 1/1 from-index=1',
        ...withContext,
      ]);
      assert.deepEqual(warm.first, cold.first);
      assert.ok(
        warm.logs.some((l) => l.startsWith('own diagnostics of toy_replace_detach_first.c from the index')),
        warm.logs.join('\n'),
      );
      // another setting that reaches the analysis: not the remembered answer
      const high = await session({ minConfidence: 'high' });
      assert.ok(high.statuses.includes('analysing open=1 context=0'), high.statuses.join('\n'));
      assert.ok(!high.logs.some((l) => l.startsWith('own diagnostics of')), high.logs.join('\n'));
      // the merged order on disk (the detach after the error block): the old answer is stale, the new text analysed
      const lines = readFileSync(file, 'utf8').split('\n');
      const detach = lines.findIndex((l) => /^\ttoy_detach_locked\(/.test(l));
      const close = lines.findIndex((l, i) => i > detach && /^\t}$/.test(l));
      const [moved] = lines.splice(detach, 1);
      lines.splice(close, 0, moved);
      writeFileSync(file, lines.join('\n'));
      const changed = await session({});
      assert.equal(changed.statuses[1], 'analysing open=1 context=0');
      assert.deepEqual(
        changed.first.filter((d) => d.code === 'unmap-before-rollback'),
        [],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(index, { recursive: true, force: true });
    }
  });

  test('--no-config: a configuration file is not read (an untrusted workspace), built-in knowledge only', async () => {
    const dir = tempDir({ 'toy_replace_detach_first.c': EXAMPLE });
    // a file that would turn the rule off
    writeFileSync(path.join(dir, '.iommufd-review.json'), JSON.stringify({ disabledRules: ['unmap-before-rollback'] }));
    const s = await startServer({ args: [extensionServerBundle, '--stdio', '--no-config'], rootUri: fileUri(dir) });
    try {
      const uri = fileUri(path.join(dir, 'toy_replace_detach_first.c'));
      const got = s.diagnostics(uri, (d) => d.length > 0);
      await open(s, path.join(dir, 'toy_replace_detach_first.c'));
      assert.deepEqual(
        (await got).map((d) => d.code),
        ['unmap-before-rollback'],
      );
      assert.ok(!s.logs.some((l) => l.startsWith('configuration:')), s.logs.join('\n'));
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("dist/lsp-start.js --code-cache DIR: the first start writes V8's code cache of lsp-server.js, the next uses it, with the same findings", async () => {
    const dir = tempDir({ 'toy_replace_detach_first.c': EXAMPLE });
    const cache = mkdtempSync(path.join(os.tmpdir(), 'iommufd-lsp-code-cache-'));
    const session = async (): Promise<{ codes: unknown[]; stderr: string }> => {
      const s = await startServer({
        args: [extensionStartBundle, '--stdio', '--code-cache', cache],
        rootUri: fileUri(dir),
      });
      let codes: unknown[];
      try {
        const uri = fileUri(path.join(dir, 'toy_replace_detach_first.c'));
        const got = s.diagnostics(uri, (d) => d.length > 0);
        await open(s, path.join(dir, 'toy_replace_detach_first.c'));
        codes = (await got).map((d) => d.code);
      } finally {
        await s.close();
        await s.exited;
      }
      return { codes, stderr: s.stderr() };
    };
    try {
      const first = await session();
      const written = readdirSync(cache);
      const second = await session();
      assert.deepEqual(first.codes, ['unmap-before-rollback']);
      assert.deepEqual(second.codes, first.codes);
      assert.equal(written.length, 1, `one cache file (${written.join(', ')})`);
      assert.match(written[0], /^lsp-server-v8-.*\.bin$/);
      // a start without a cache writes one (at exit here: the session is shorter than the write's delay)
      assert.match(first.stderr, /code cache written/);
      assert.match(second.stderr, /code cache used/);
      assert.doesNotMatch(second.stderr, /code cache written/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(cache, { recursive: true, force: true });
    }
  });
});

describe('lsp: the verified fix as a code action (any client)', () => {
  type Edits = { documentChanges: { textDocument: { uri: string; version: number }; edits: TextEdit[] }[] };
  const fixOf = (actions: CodeAction[]) => actions.find((a) => a.kind === 'quickfix.iommufd.verifiedFix');
  const askActions = async (s: LspSession, uri: string): Promise<CodeAction[]> => {
    const [d] = await s.diagnostics(uri, (x) => x.length > 0);
    return (await s.conn.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: d.range,
      context: { diagnostics: [d] },
    })) as CodeAction[];
  };
  /** The edited text: the add comes before the detach, and the finding is gone once the server sees it. */
  const checkFixed = async (s: LspSession, uri: string, text: string, edits: Edits): Promise<void> => {
    assert.equal(edits.documentChanges.length, 1);
    assert.deepEqual(edits.documentChanges[0].textDocument, { uri, version: 1 });
    const fixed = TextDocument.applyEdits(TextDocument.create(uri, 'c', 1, text), edits.documentChanges[0].edits);
    const body = fixed.slice(fixed.indexOf('toy_replace_detach_first(struct'));
    // the merged order: the add first, the driver's unmap (the detach helper written out) only after it succeeded
    assert.ok(body.indexOf('iopt_add_access(') < body.indexOf('access->ops->unmap('), body);
    const cleared = s.diagnostics(uri, (x) => !x.some((d) => d.code === 'unmap-before-rollback'));
    await s.conn.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: 2 },
      contentChanges: [{ text: fixed }],
    });
    await cleared;
  };

  test('a client without resolve: the action runs a server command that sends the edit with workspace/applyEdit', async () => {
    const dir = tempDir({ 'toy_replace_detach_first.c': EXAMPLE });
    const file = path.join(dir, 'toy_replace_detach_first.c');
    const s = await startServer({ rootUri: fileUri(dir) });
    try {
      const got = askActions(s, fileUri(file));
      const uri = await open(s, file);
      const fix = fixOf(await got);
      assert.equal(fix?.title, 'Apply the verified order of toy_replace_detach_first() (simulator-checked)');
      assert.equal(fix?.edit, undefined, 'the edit is not computed before it is asked for');
      assert.equal(fix?.command?.command, 'iommufd-review.applyVerifiedFix');
      assert.deepEqual(fix?.command?.arguments, [{ uri, version: 1, line: 34, ruleId: 'unmap-before-rollback' }]);
      const answer = await s.conn.sendRequest('workspace/executeCommand', fix!.command);
      assert.deepEqual(answer, { applied: true });
      assert.equal(s.appliedEdits.length, 1);
      await checkFixed(s, uri, readFileSync(file, 'utf8'), s.appliedEdits[0] as Edits);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a client that resolves edits gets the edit from codeAction/resolve; a stale action is refused with the reason', async () => {
    const dir = tempDir({ 'toy_replace_detach_first.c': EXAMPLE });
    const file = path.join(dir, 'toy_replace_detach_first.c');
    const s = await startServer({
      rootUri: fileUri(dir),
      capabilities: { textDocument: { codeAction: { resolveSupport: { properties: ['edit'] } } } },
    });
    try {
      assert.equal((s.init.capabilities.codeActionProvider as { resolveProvider?: boolean }).resolveProvider, true);
      const got = askActions(s, fileUri(file));
      const uri = await open(s, file);
      const fix = fixOf(await got)!;
      assert.equal(fix.command, undefined);
      assert.equal(fix.edit, undefined);
      const resolved = (await s.conn.sendRequest('codeAction/resolve', fix)) as CodeAction;
      assert.equal(resolved.title, fix.title);
      await checkFixed(s, uri, readFileSync(file, 'utf8'), resolved.edit as Edits);
      // the document is at version 2 now: the action offered for version 1 is refused, not applied to other text
      await assert.rejects(
        s.conn.sendRequest('codeAction/resolve', fix),
        /no verified fix: toy_replace_detach_first\.c changed since the action was offered; ask for it again/,
      );
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
