/**
 * The language server over stdio, driven by a real client (vscode-jsonrpc's
 * Node message connection against the built `node dist/cli.js lsp --stdio`):
 * what it publishes, answers and survives.
 */
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CodeAction, CodeLens, Diagnostic, Hover } from 'vscode-languageserver';
import { cliBundle, fileUri, repoRoot, startServer, type LspSession } from './lsp-client';

const EXAMPLE = path.join(repoRoot, 'examples/c/toy_replace_detach_first.c');
const MDEV = path.join(repoRoot, 'examples/c/toy_mdev.c');
const V8 = path.join(repoRoot, 'examples/series/v8.mbox');

const UBR_MESSAGE =
  "`toy_detach_locked()` unmaps the driver's pages, removes the access from the IOAS and drops the reference to the old object (line 32) before `iopt_add_access()` can fail (line 34); the error path (line 37) calls `toy_replace_detach_first()` again to re-attach `cur` but cannot give the driver its pins back.";

/** The witness: 0-based line and message of each related location. */
const UBR_RELATED: [number, string][] = [
  [
    31,
    "`toy_detach_locked()` unmaps the driver's pages, removes the access from the IOAS and drops the reference to the old object: cannot be undone",
  ],
  [16, "`access->ops->unmap()` unmaps the driver's pages (inside `toy_detach_locked()`)"],
  [18, '`iopt_remove_access()` removes the access from the IOAS (inside `toy_detach_locked()`)'],
  [20, '`refcount_dec()` drops the reference to the old object (inside `toy_detach_locked()`)'],
  [33, '`iopt_add_access()` can fail here'],
  [36, 'the error path calls `toy_replace_detach_first()` again to re-attach `cur`'],
  [
    36,
    'the restore reads `cur` after `refcount_dec()` dropped the reference to it (line 21): the object may already be destroyed',
  ],
  [36, '`toy_replace_detach_first()` can fail as well, and then nothing is restored'],
  [37, 'returns the error to the caller'],
];

const codes = (ds: Diagnostic[]): string[] => ds.map((d) => `${String(d.code)}@${d.range.start.line}`).sort();

function tempDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommufd-lsp-'));
  for (const [name, from] of Object.entries(files)) copyFileSync(from, path.join(dir, name));
  return dir;
}

async function open(s: LspSession, file: string, languageId = 'c', text = readFileSync(file, 'utf8')): Promise<string> {
  const uri = fileUri(file);
  await s.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
  return uri;
}

describe('lsp: the v8-like example over stdio', () => {
  let dir: string;
  let s: LspSession;
  let uri: string;
  let file: string;
  let pushed: Diagnostic[];

  before(async () => {
    dir = tempDir({ 'toy_replace_detach_first.c': EXAMPLE });
    file = path.join(dir, 'toy_replace_detach_first.c');
    s = await startServer({ rootUri: fileUri(dir) });
    const first = s.diagnostics(fileUri(file), (d) => d.length > 0);
    uri = await open(s, file);
    pushed = await first;
  });
  after(async () => {
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('initialize announces incremental sync, hover, lenses, actions and the copy command (pull diagnostics only to a pulling client)', () => {
    const c = s.init.capabilities;
    assert.deepEqual(c.textDocumentSync, { openClose: true, change: 2 });
    assert.equal(c.hoverProvider, true);
    assert.deepEqual(c.codeLensProvider, { resolveProvider: false });
    // this client does not resolve code actions: the verified fix comes as a command that sends workspace/applyEdit
    assert.deepEqual(c.codeActionProvider, {
      codeActionKinds: ['iommufd.copy', 'quickfix.iommufd.verifiedFix'],
      resolveProvider: false,
    });
    assert.deepEqual(c.executeCommandProvider, {
      commands: ['iommufd-review.copyFinding', 'iommufd-review.applyVerifiedFix'],
    });
    // this client does not pull: a provider announced to it would make a client like VS Code's pull anyway
    assert.equal(c.diagnosticProvider, undefined);
    assert.equal(s.init.serverInfo?.name, 'iommufd-review');
  });

  test('pushes the unmap-before-rollback diagnostic on the fallible call with its witness and rule link', () => {
    assert.equal(pushed.length, 1);
    const d = pushed[0];
    assert.equal(d.code, 'unmap-before-rollback');
    assert.equal(d.source, 'iommufd');
    assert.equal(d.severity, 2);
    assert.deepEqual(d.range, { start: { line: 33, character: 6 }, end: { line: 33, character: 47 } });
    assert.equal(d.message, UBR_MESSAGE);
    assert.equal(d.codeDescription?.href, `${fileUri(path.join(repoRoot, 'docs/engine.md'))}#unmap-before-rollback`);
    assert.deepEqual(
      d.relatedInformation?.map((r) => [r.location.range.start.line, r.message]),
      UBR_RELATED,
    );
    for (const r of d.relatedInformation ?? []) assert.equal(r.location.uri, uri);
  });

  test("the diagnostic carries the finding itself in data (a client's own views need no second request)", () => {
    const data = pushed[0].data as {
      fingerprint: string;
      finding: {
        ruleId: string;
        line: number;
        function: string;
        fingerprint: string;
        related: unknown[];
        scenario: { variant: string };
      };
    };
    assert.equal(data.finding.ruleId, 'unmap-before-rollback');
    assert.equal(data.finding.line, 34);
    assert.equal(data.finding.function, 'toy_replace_detach_first');
    assert.equal(data.finding.scenario.variant, 'from-source');
    assert.equal(data.fingerprint, data.finding.fingerprint);
    assert.equal(data.finding.related.length, pushed[0].relatedInformation?.length);
  });

  test('pull diagnostics answer the same items', async () => {
    const report = (await s.conn.sendRequest('textDocument/diagnostic', { textDocument: { uri } })) as {
      kind: string;
      items: Diagnostic[];
    };
    assert.equal(report.kind, 'full');
    assert.deepEqual(report.items, pushed);
  });

  test('hover: Simulate link first, the rule and its documentation, not the diagnostic text again', async () => {
    const hover = (await s.conn.sendRequest('textDocument/hover', {
      textDocument: { uri },
      position: { line: 33, character: 10 },
    })) as Hover;
    const value = (hover.contents as { kind: string; value: string }).value;
    assert.equal((hover.contents as { kind: string }).kind, 'markdown');
    assert.match(value, /^\[▶ Simulate\]\(command:iommufd\.simulateFinding\?/);
    const args = JSON.parse(decodeURIComponent(/command:iommufd\.simulateFinding\?([^ )]+)/.exec(value)![1])) as [
      { scenario: { variant: string; function: string }; line: number; message?: string },
    ];
    assert.equal(args[0].scenario.variant, 'from-source');
    assert.equal(args[0].scenario.function, 'toy_replace_detach_first');
    assert.equal(args[0].line, 34);
    assert.equal(args[0].message, undefined);
    assert.match(
      value,
      /\*\*unmap-before-rollback\*\* · warning · high confidence · \[UnmapBeforeRollback\]\(file:[^ ]+docs\/engine\.md#unmap-before-rollback /,
    );
    assert.ok(!value.includes('cannot give the driver its pins back'), 'the hover repeats the diagnostic message');
    const none = await s.conn.sendRequest('textDocument/hover', {
      textDocument: { uri },
      position: { line: 5, character: 0 },
    });
    assert.equal(none, null);
  });

  test('code lens: Simulate on the finding line with the scenario as argument', async () => {
    const lenses = (await s.conn.sendRequest('textDocument/codeLens', { textDocument: { uri } })) as CodeLens[];
    assert.equal(lenses.length, 1);
    assert.equal(lenses[0].range.start.line, 33);
    assert.equal(lenses[0].command?.command, 'iommufd.simulateFinding');
    assert.equal(lenses[0].command?.title, '▶ Simulate unmap-before-rollback (from-source)');
    assert.deepEqual(lenses[0].command?.arguments, [
      {
        scenario: {
          variant: 'from-source',
          file,
          function: 'toy_replace_detach_first',
          threads: ['replacer', 'driver'],
          faults: ['add-access'],
          contract: 'status-quo',
          invariant: 'failure-contract',
        },
        ruleId: 'unmap-before-rollback',
        function: 'toy_replace_detach_first',
        message: UBR_MESSAGE,
        file,
        line: 34,
      },
    ]);
  });

  test('code action copies the finding as review text; the server command answers it and shows it', async () => {
    const actions = (await s.conn.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: pushed[0].range,
      context: { diagnostics: pushed },
    })) as CodeAction[];
    // the copy, and the verified fix (its own test: extension-server.test.ts)
    assert.deepEqual(
      actions.map((a) => a.kind),
      ['iommufd.copy', 'quickfix.iommufd.verifiedFix'],
    );
    assert.equal(actions[0].title, 'Copy the finding for a review reply');
    assert.equal(actions[0].kind, 'iommufd.copy');
    assert.equal(actions[0].command?.command, 'iommufd-review.copyFinding');
    const text = actions[0].command?.arguments?.[0] as string;
    const lines = text.split('\n');
    assert.equal(
      lines[0],
      `${file}:34:7: warning: [unmap-before-rollback] ${UBR_MESSAGE} (confidence: high; in toy_replace_detach_first())`,
    );
    assert.equal(lines[1], `  ${file}:32: note: ${UBR_RELATED[0][1]}`);
    assert.equal(lines.length, 1 + UBR_RELATED.length);
    const answered = await s.conn.sendRequest('workspace/executeCommand', {
      command: 'iommufd-review.copyFinding',
      arguments: [text],
    });
    assert.equal(answered, text);
    assert.ok(s.shownMessages.some((m) => m.type === 3 && m.message === text));
    const elsewhere = (await s.conn.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: { line: 5, character: 0 }, end: { line: 5, character: 0 } },
      context: { diagnostics: [] },
    })) as CodeAction[];
    assert.deepEqual(elsewhere, []);
  });

  test('iommufd/simulation: the finding replayed in the replace flow from its source breaks the failure contract', async () => {
    const answer = (await s.conn.sendRequest('iommufd/simulation', {
      textDocument: { uri },
      position: { line: 33, character: 0 },
    })) as {
      finding: { ruleId: string; line: number };
      simulation: {
        kind: string;
        invariant: string;
        broken: boolean;
        headline: string;
        placed: (number | undefined)[];
        replace: {
          complete: boolean;
          invariants: {
            id: string;
            holds: boolean;
            counterexample?: { steps: { thread: string; line?: number; action: string }[] };
          }[];
        };
      };
    };
    assert.equal(answer.finding.ruleId, 'unmap-before-rollback');
    assert.equal(answer.finding.line, 34);
    const sim = answer.simulation;
    assert.equal(sim.kind, 'replace-flow');
    assert.equal(sim.invariant, 'failure-contract');
    assert.equal(sim.broken, true);
    assert.match(sim.headline, /^The pins are gone: /);
    assert.ok(
      sim.placed.length > 0 && sim.placed.every((i) => typeof i === 'number'),
      'every witness step is replayed',
    );
    assert.equal(sim.replace.complete, true);
    const verdicts = Object.fromEntries(sim.replace.invariants.map((i) => [i.id, i.holds]));
    assert.equal(verdicts['failure-contract'], false);
    assert.equal(verdicts['no-deadlock'], true);
    const trace = sim.replace.invariants.find((i) => i.id === 'failure-contract')!.counterexample!.steps;
    assert.ok(
      trace.some(
        (st) => st.thread === 'replacer' && st.line === 34 && st.action === 'iopt_add_access(&new_ioas->iopt, access)',
      ),
      'the counterexample runs the fallible call at line 34',
    );
    await assert.rejects(
      s.conn.sendRequest('iommufd/simulation', { textDocument: { uri }, position: { line: 5, character: 0 } }),
      (e: Error & { code?: number }) => {
        assert.equal(e.code, -32602);
        assert.equal(e.message, 'no iommufd finding on line 6 of toy_replace_detach_first.c');
        return true;
      },
    );
  });

  test('iommufd/lockGraph: ioas_lock edges, no cycle, Markdown', async () => {
    const graph = (await s.conn.sendRequest('iommufd/lockGraph')) as {
      edges: { from: string; to: string; sites: { file: string; line: number }[] }[];
      onCycle: unknown[];
      markdown: string;
    };
    const edge = graph.edges.find((e) => e.from === 'iommufd_access.ioas_lock' && e.to === 'io_pagetable.access_list');
    assert.ok(edge, JSON.stringify(graph.edges.map((e) => `${e.from}->${e.to}`)));
    assert.ok(edge.sites.some((x) => x.file === file && x.line === 19));
    assert.deepEqual(graph.onCycle, []);
    assert.match(graph.markdown, /^# iommufd lock graph\n/);
    assert.ok(graph.markdown.includes('`iommufd_access.ioas_lock` → `io_pagetable.access_list`'));
  });

  test('an incremental edit into the merged order clears the finding; undoing it brings it back', async () => {
    const text = readFileSync(file, 'utf8').split('\n');
    assert.equal(text[31], '\ttoy_detach_locked(access);');
    assert.equal(text[39], '\trefcount_inc(&new_ioas->obj.users);');
    const cleared = s.diagnostics(uri, (d) => d.length === 0);
    // Two changes in one event, each against the text the previous one left: detach after the error block, then the old line gone.
    await s.conn.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: 2 },
      contentChanges: [
        {
          range: { start: { line: 39, character: 0 }, end: { line: 39, character: 0 } },
          text: '\ttoy_detach_locked(access);\n',
        },
        { range: { start: { line: 31, character: 0 }, end: { line: 32, character: 0 } }, text: '' },
      ],
    });
    assert.deepEqual(await cleared, []);
    const back = s.diagnostics(uri, (d) => d.length === 1);
    await s.conn.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: 3 },
      contentChanges: [
        { range: { start: { line: 38, character: 0 }, end: { line: 39, character: 0 } }, text: '' },
        {
          range: { start: { line: 31, character: 0 }, end: { line: 31, character: 0 } },
          text: '\ttoy_detach_locked(access);\n',
        },
      ],
    });
    const again = await back;
    assert.equal(again[0].code, 'unmap-before-rollback');
    assert.equal(again[0].message, UBR_MESSAGE);
    assert.equal(again[0].range.start.line, 33);
    const versions = s.published.filter((p) => p.uri === uri).map((p) => p.version);
    assert.equal(versions[versions.length - 1], 3);
  });
});

describe('lsp: settings, patch mails, bad input', () => {
  let dir: string;
  let s: LspSession;

  before(async () => {
    dir = tempDir({ 'toy_mdev.c': MDEV, 'v8.mbox': V8 });
    s = await startServer({ rootUri: fileUri(dir), settings: { minConfidence: 'medium' } });
  });
  after(async () => {
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('minConfidence from workspace/configuration decides what is published', async () => {
    const file = path.join(dir, 'toy_mdev.c');
    const uri = fileUri(file);
    const first = s.diagnostics(uri, (d) => d.length > 0);
    await open(s, file);
    assert.deepEqual(codes(await first), ['callback-under-lock@62', 'lock-leak@42']);
    // The client's settings change; didChangeConfiguration without settings makes the server ask again.
    s.settings = { minConfidence: 'high' };
    const high = s.diagnostics(uri, (d) => d.length === 1);
    await s.conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
    const onlyHigh = await high;
    assert.deepEqual(codes(onlyHigh), ['lock-leak@42']);
    // Neovim's way: the settings in the notification itself, dotted or nested.
    const medium = s.diagnostics(uri, (d) => d.length === 2);
    await s.conn.sendNotification('workspace/didChangeConfiguration', {
      settings: { iommufd: { minConfidence: 'medium', analysis: { debounceMs: 50 } } },
    });
    const both = await medium;
    const cb = both.find((d) => d.code === 'callback-under-lock')!;
    assert.match(cb.message, / \[medium confidence\]$/);
  });

  test('a bad setting is named and the default kept', async () => {
    await s.conn.sendNotification('workspace/didChangeConfiguration', {
      settings: { iommufd: { minConfidence: 'sometimes' } },
    });
    const deadline = Date.now() + 10_000;
    while (
      !s.shownMessages.some((m) => m.message.includes('iommufd.minConfidence: expected one of low, medium, high')) &&
      Date.now() < deadline
    )
      await new Promise((r) => setTimeout(r, 50));
    assert.ok(
      s.shownMessages.some(
        (m) => m.type === 2 && m.message === 'iommufd-review: iommufd.minConfidence: expected one of low, medium, high',
      ),
      JSON.stringify(s.shownMessages),
    );
  });

  test('a patch mail gets the finding on its own line, as introduced by patch 2/3', async () => {
    const file = path.join(dir, 'v8.mbox');
    const uri = fileUri(file);
    const got = s.diagnostics(uri, (d) => d.some((x) => x.code === 'unmap-before-rollback'));
    await open(s, file, 'mail');
    const ds = await got;
    const d = ds.find((x) => x.code === 'unmap-before-rollback')!;
    assert.equal(d.range.start.line, 238);
    assert.match(
      d.message,
      /^`__iommufd_access_detach\(\)` unmaps the driver's pages, .* before `iopt_add_access\(\)` can fail \(line 52\);/,
    );
    assert.match(
      d.message,
      / \[medium confidence\] — introduced by this patch \(patch-only analysis: partial context, confidence capped\)$/,
    );
    assert.equal(d.codeDescription?.href.endsWith('docs/engine.md#unmap-before-rollback'), true);
    assert.deepEqual(
      d.relatedInformation?.slice(0, 2).map((r) => [r.location.range.start.line, r.message]),
      [
        [
          236,
          "`__iommufd_access_detach()` unmaps the driver's pages, removes the access from the IOAS and drops the reference to the old object: cannot be undone",
        ],
        [208, "`access->ops->unmap()` unmaps the driver's pages (inside `__iommufd_access_detach()`)"],
      ],
    );
    // Every witness step the patch shows points into the patch mail itself.
    for (const r of d.relatedInformation ?? []) assert.equal(r.location.uri, uri);
    // The reply in the mbox is set aside, not a problem; no input note on a well-formed series.
    assert.deepEqual(
      ds.filter((x) => x.code === 'input'),
      [],
    );
    const lenses = (await s.conn.sendRequest('textDocument/codeLens', { textDocument: { uri } })) as CodeLens[];
    assert.deepEqual(
      lenses.map((l) => l.range.start.line),
      [238],
    );
    const sim = (await s.conn.sendRequest('iommufd/simulation', {
      textDocument: { uri },
      position: { line: 238, character: 0 },
    })) as { simulation: { kind: string; invariant: string; broken: boolean; note?: string } };
    // From the hunks alone the helper's body is in patch 1's image, not 2's: the witness runs on the generic model, and says why.
    assert.deepEqual(
      [sim.simulation.kind, sim.simulation.invariant, sim.simulation.broken],
      ['lock-model', 'failure-contract', true],
    );
    assert.equal(
      sim.simulation.note,
      'iommufd_access_change_ioas_id() has no replace-flow step the simulator recognises; the witness is replayed on the generic model',
    );
  });

  test('a patch mail inside a kernel tree is reviewed against it: full context, simulated in the replace flow', async () => {
    const tree = path.join(dir, 'tree');
    cpSync(path.join(repoRoot, 'examples/series/tree'), tree, { recursive: true });
    const file = path.join(tree, 'v8.mbox');
    copyFileSync(V8, file);
    const uri = fileUri(file);
    const got = s.diagnostics(uri, (d) => d.length > 0);
    await open(s, file, 'mail');
    const ds = await got;
    assert.deepEqual(codes(ds), ['unmap-before-rollback@238']);
    assert.match(
      ds[0].message,
      /can fail \(line 52\);.* cannot give the driver its pins back\. — introduced by this patch$/,
    );
    assert.deepEqual(
      ds[0].relatedInformation?.map((r) => [r.location.uri, r.location.range.start.line]),
      [236, 208, 217, 219, 238, 244, 244, 244, 245].map((l) => [uri, l]),
    );
    const sim = (await s.conn.sendRequest('iommufd/simulation', {
      textDocument: { uri },
      position: { line: 238, character: 0 },
    })) as { simulation: { kind: string; invariant: string; broken: boolean; headline: string } };
    assert.deepEqual(
      [sim.simulation.kind, sim.simulation.invariant, sim.simulation.broken],
      ['replace-flow', 'failure-contract', true],
    );
    assert.match(sim.simulation.headline, /^The pins are gone: /);
  });

  test('iommufd/reviewSeries: mail text in, findings per patch out', async () => {
    const review = (await s.conn.sendRequest('iommufd/reviewSeries', {
      text: readFileSync(V8, 'utf8'),
      name: 'v8.mbox',
    })) as {
      series: { title: string; version: number; total: number };
      patches: {
        index: number;
        findings: { ruleId: string; status: string; patchLine?: number; function: string }[];
      }[];
    };
    assert.equal(review.series.version, 8);
    assert.equal(review.series.total, 3);
    assert.deepEqual(
      review.patches.map((p) => [
        p.index,
        p.findings.map((f) => `${f.status} ${f.ruleId} ${f.function}@${f.patchLine}`),
      ]),
      [
        [1, []],
        [2, ['introduced unmap-before-rollback iommufd_access_change_ioas_id@239']],
        [3, []],
      ],
    );
    await assert.rejects(s.conn.sendRequest('iommufd/reviewSeries', {}), /needs the mail text/);
  });

  test('binary, oversized and non-UTF-8 C buffers get a clear diagnostic and the server keeps serving', async () => {
    const bin = fileUri(path.join(dir, 'blob.c'));
    const gotBin = s.diagnostics(bin, (d) => d.length > 0);
    await s.conn.sendNotification('textDocument/didOpen', {
      textDocument: {
        uri: bin,
        languageId: 'c',
        version: 1,
        text: 'ELF\u0000\u0001\u0002\u0000\u0000int x;\n'.repeat(50),
      },
    });
    assert.deepEqual(
      (await gotBin).map((d) => [d.code, d.severity, d.range.start.line, d.message]),
      [['input', 2, 0, 'iommufd-review: blob.c: not analysed: this looks like a binary file, not C source']],
    );

    await s.conn.sendNotification('workspace/didChangeConfiguration', {
      settings: { iommufd: { analysis: { maxFileBytes: 4096 } } },
    });
    const big = fileUri(path.join(dir, 'big.c'));
    const gotBig = s.diagnostics(big, (d) => d.length > 0);
    await s.conn.sendNotification('textDocument/didOpen', {
      textDocument: { uri: big, languageId: 'c', version: 1, text: 'static int a;\n'.repeat(1000) },
    });
    assert.deepEqual(
      (await gotBig).map((d) => [d.code, d.message]),
      [['input', 'iommufd-review: big.c: not analysed: 0.0 MiB is over the 0.0 MiB limit']],
    );

    const latin = fileUri(path.join(dir, 'latin1.c'));
    const gotLatin = s.diagnostics(latin, (d) => d.length > 0);
    await s.conn.sendNotification('textDocument/didOpen', {
      textDocument: {
        uri: latin,
        languageId: 'c',
        version: 1,
        text: '/* Copyright J\uFFFDrg */\nint f(void) { return 0; }\n',
      },
    });
    const latinDs = await gotLatin;
    assert.equal(latinDs.length, 1);
    assert.equal(latinDs[0].code, 'input');
    assert.match(latinDs[0].message, /^iommufd-review: latin1\.c: .*not valid UTF-8/);

    const hover = await s.conn.sendRequest('textDocument/hover', {
      textDocument: { uri: bin },
      position: { line: 0, character: 0 },
    });
    assert.equal(hover, null);
    assert.equal(s.proc.exitCode, null);
  });
});

describe('lsp: configuration file and scheduling', () => {
  test('.iommufd-review.json found upward from the file applies; a broken one is named and not used', async () => {
    const dir = tempDir({});
    const src = path.join(dir, 'drivers', 'toy');
    mkdirSync(src, { recursive: true });
    const file = path.join(src, 'toy_replace_detach_first.c');
    copyFileSync(EXAMPLE, file);
    writeFileSync(path.join(dir, '.iommufd-review.json'), JSON.stringify({ disabledRules: ['unmap-before-rollback'] }));
    // No workspace folder: the file is found upward from the open document.
    let s = await startServer();
    try {
      const uri = fileUri(file);
      await open(s, file);
      const report = (await s.conn.sendRequest('textDocument/diagnostic', { textDocument: { uri } })) as {
        items: Diagnostic[];
      };
      assert.deepEqual(report.items, []);
      assert.ok(s.logs.includes(`configuration: ${path.join(dir, '.iommufd-review.json')}`), s.logs.join('\n'));
    } finally {
      await s.close();
    }
    writeFileSync(
      path.join(dir, '.iommufd-review.json'),
      JSON.stringify({ disabledRules: ['no-such-rule'], colour: 'red' }),
    );
    s = await startServer();
    try {
      const uri = fileUri(file);
      const got = s.diagnostics(uri, (d) => d.length > 0);
      await open(s, file);
      assert.deepEqual(codes(await got), ['unmap-before-rollback@33']);
      const warning = s.shownMessages.find((m) => m.type === 2);
      assert.ok(warning, JSON.stringify(s.shownMessages));
      assert.match(warning.message, /^iommufd-review: the configuration file was not used: .*\.iommufd-review\.json: /);
      assert.match(warning.message, /\(and 1 more; see the log\)$/);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the open file's own diagnostics come first; then its directory is context: a callee's body in a sibling file shapes the finding", async () => {
    const dir = tempDir({ 'toy_replace_detach_first.c': EXAMPLE, 'toy_mdev.c': MDEV });
    // no index: the run's shared scratch index may hold toy_mdev.c already, and this asserts a parse
    const s = await startServer({ rootUri: fileUri(dir), args: [cliBundle, 'lsp', '--stdio', '--no-index'] });
    try {
      const file = path.join(dir, 'toy_replace_detach_first.c');
      const uri = fileUri(file);
      const mdev = fileUri(path.join(dir, 'toy_mdev.c'));
      const intoMdev = (d: Diagnostic[]) => d.some((x) => x.relatedInformation?.some((r) => r.location.uri === mdev));
      const own = s.diagnostics(uri, (d) => d.length > 0);
      const withContext = s.diagnostics(uri, intoMdev);
      await open(s, file);
      // first the file alone: the finding is there, its witness stays in the open file
      const [first] = await own;
      assert.equal(first.code, 'unmap-before-rollback');
      assert.equal(intoMdev([first]), false, JSON.stringify(first.relatedInformation));
      const [d] = await withContext;
      assert.equal(d.code, 'unmap-before-rollback');
      // toy_mdev.c (not open) implements the unmap callback with vfio_unpin_pages(): the witness goes there.
      const step = d.relatedInformation?.find((r) => r.location.uri === mdev);
      assert.ok(step, JSON.stringify(d.relatedInformation));
      assert.equal(step.location.range.start.line, 25);
      assert.equal(step.message, '`vfio_unpin_pages()` unpins the pages (inside `toy_detach_locked()`)');
      assert.ok(s.logs.includes('read 1 context file(s), 0 of them from the index'), s.logs.join('\n'));
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('typing in a burst is analysed once, for the last version: superseded runs publish nothing', async () => {
    const dir = tempDir({ 'toy_replace_detach_first.c': EXAMPLE });
    const file = path.join(dir, 'toy_replace_detach_first.c');
    const s = await startServer({ rootUri: fileUri(dir), settings: { analysis: { debounceMs: 400 } } });
    try {
      const uri = fileUri(file);
      const first = s.diagnostics(uri, (d) => d.length === 1);
      await open(s, file);
      await first;
      const before = s.published.length;
      const last = s.diagnostics(uri);
      // Ten keystrokes: a comment typed at the top of the file, one character each.
      for (let i = 0; i < 10; i++) {
        await s.conn.sendNotification('textDocument/didChange', {
          textDocument: { uri, version: 2 + i },
          contentChanges: [{ range: { start: { line: 0, character: i }, end: { line: 0, character: i } }, text: 'x' }],
        });
      }
      const ds = await last;
      await new Promise((r) => setTimeout(r, 600));
      const after = s.published.slice(before);
      assert.deepEqual(
        after.map((p) => p.version),
        [11],
      );
      // The comment line grew by ten characters; the finding stays on its line.
      assert.deepEqual(codes(ds), ['unmap-before-rollback@33']);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('lsp: protocol robustness', () => {
  test('a malformed message and unknown methods leave the server answering', async () => {
    const s = await startServer();
    try {
      const body = '{"jsonrpc":"2.0","id":99,"method":';
      s.proc.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      await assert.rejects(s.conn.sendRequest('iommufd/noSuchThing', {}), (e: Error & { code?: number }) => {
        assert.equal(e.code, -32601);
        return true;
      });
      await s.conn.sendNotification('iommufd/noSuchNotification', { x: 1 });
      const graph = (await s.conn.sendRequest('iommufd/lockGraph')) as { edges: unknown[] };
      assert.deepEqual(graph.edges, []);
      await assert.rejects(
        s.conn.sendRequest('iommufd/simulation', { nonsense: true }),
        /needs textDocument\.uri and position\.line/,
      );
      assert.equal(s.proc.exitCode, null);
    } finally {
      await s.close();
    }
    assert.deepEqual(await s.exited, { code: 0, signal: null });
  });

  test('shutdown then exit ends the process with status 0', async () => {
    const s = await startServer();
    assert.equal(await s.conn.sendRequest('shutdown'), null);
    await s.conn.sendNotification('exit');
    assert.deepEqual(await s.exited, { code: 0, signal: null });
    s.conn.dispose();
  });

  test('a client that disappears mid-request does not leave the server running', async () => {
    const dir = tempDir({ 'toy_replace_detach_first.c': EXAMPLE });
    const s = await startServer({ rootUri: fileUri(dir) });
    try {
      const uri = await open(s, path.join(dir, 'toy_replace_detach_first.c'));
      void s.conn
        .sendRequest('iommufd/simulation', { textDocument: { uri }, position: { line: 33, character: 0 } })
        .catch(() => undefined);
      // Let the request reach the pipe, then go away without shutdown or exit.
      await new Promise((r) => setTimeout(r, 20));
      s.proc.stdin.end();
      s.proc.stdout.destroy();
      const started = Date.now();
      const exit = await Promise.race([
        s.exited,
        new Promise<'still running'>((r) => setTimeout(() => r('still running'), 10_000)),
      ]);
      assert.notEqual(exit, 'still running');
      assert.equal((exit as { code: number | null }).code, 1, 'no shutdown came first: status 1');
      assert.ok(Date.now() - started < 10_000);
    } finally {
      if (s.proc.exitCode === null) s.proc.kill('SIGKILL');
      s.conn.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a client that pulls diagnostics gets none pushed, and the same findings by pulling', async () => {
    const dir = tempDir({ 'toy_replace_detach_first.c': EXAMPLE });
    const s = await startServer({
      rootUri: fileUri(dir),
      capabilities: { textDocument: { diagnostic: { dynamicRegistration: false } } },
    });
    try {
      assert.deepEqual(s.init.capabilities.diagnosticProvider, {
        identifier: 'iommufd',
        interFileDependencies: true,
        workspaceDiagnostics: false,
      });
      const uri = await open(s, path.join(dir, 'toy_replace_detach_first.c'));
      const report = (await s.conn.sendRequest('textDocument/diagnostic', { textDocument: { uri } })) as {
        kind: string;
        items: Diagnostic[];
      };
      assert.deepEqual(codes(report.items), ['unmap-before-rollback@33']);
      assert.equal(report.items[0].message, UBR_MESSAGE);
      assert.deepEqual(s.published, []);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('lsp without --stdio is a usage error', async () => {
    const { runCli } = await import('../cli/run-cli');
    const r = runCli(['lsp']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /iommufd-review lsp: say --stdio/);
    assert.match(runCli(['lsp', '--help']).stdout, /^Usage: iommufd-review lsp --stdio \[--index DIR \| --no-index\]/);
    const both = runCli(['lsp', '--stdio', '--index', os.tmpdir(), '--no-index']);
    assert.equal(both.status, 2);
    assert.match(both.stderr, /iommufd-review lsp: --index and --no-index contradict each other/);
  });
});
