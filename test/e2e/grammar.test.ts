/**
 * The patch-mail grammar, tokenised by VS Code's own TextMate engine
 * (vscode-textmate and vscode-oniguruma from the code-server install) with VS
 * Code's C grammar embedded: headers, subject tags, quotes, trailers, the
 * diffstat, and C scopes inside the hunks of a .c file but not of other files.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { requireEnv, ROOT } from './harness';

interface Token {
  text: string;
  scopes: string[];
}

/** The few parts of vscode-textmate and vscode-oniguruma used here (no types ship with them in code-server). */
interface RawToken {
  startIndex: number;
  endIndex: number;
  scopes: string[];
}
interface Grammar {
  tokenizeLine(line: string, state: unknown): { tokens: RawToken[]; ruleStack: unknown };
}
interface TextMate {
  INITIAL: unknown;
  Registry: new (o: { onigLib: Promise<unknown>; loadGrammar(scope: string): Promise<unknown> }) => {
    loadGrammar(scope: string): Promise<Grammar | null>;
  };
  parseRawGrammar(text: string, file: string): unknown;
}
interface Oniguruma {
  loadWASM(bytes: ArrayBuffer): Promise<void>;
  OnigScanner: new (patterns: string[]) => unknown;
  OnigString: new (s: string) => unknown;
}

async function tokenizer(): Promise<(lines: string[]) => Token[][]> {
  const vscodeDir = path.join(path.dirname(requireEnv('IOMMUFD_REVIEW_CODE_SERVER')), '../../lib/vscode');
  const tm = require(path.join(vscodeDir, 'node_modules/vscode-textmate')) as TextMate;
  const onig = require(path.join(vscodeDir, 'node_modules/vscode-oniguruma')) as Oniguruma;
  const wasm = readFileSync(path.join(vscodeDir, 'node_modules/vscode-oniguruma/release/onig.wasm'));
  await onig.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer);
  const grammars: Record<string, string> = {
    'source.iommufd-patch': path.join(ROOT, 'syntaxes/iommufd-patch.tmLanguage.json'),
    'source.c': path.join(vscodeDir, 'extensions/cpp/syntaxes/c.tmLanguage.json'),
  };
  const registry = new tm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (p: string[]) => new onig.OnigScanner(p),
      createOnigString: (s: string) => new onig.OnigString(s),
    }),
    loadGrammar: async (scope: string) =>
      grammars[scope] ? tm.parseRawGrammar(readFileSync(grammars[scope], 'utf8'), grammars[scope]) : null,
  });
  const grammar = await registry.loadGrammar('source.iommufd-patch');
  assert.ok(grammar);
  const g: Grammar = grammar;
  return (lines) => {
    let state = tm.INITIAL;
    return lines.map((line) => {
      const r = g.tokenizeLine(line, state);
      state = r.ruleStack;
      return r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
    });
  };
}

function scopesOf(tokens: Token[], text: string): string[] {
  const t = tokens.find((x) => x.text.includes(text));
  assert.ok(t, `a token with ${JSON.stringify(text)} in ${JSON.stringify(tokens.map((x) => x.text))}`);
  return t.scopes;
}

test('the patch-mail grammar highlights mail parts, and C only inside C hunks', async () => {
  const tokenize = await tokenizer();
  const mail = [
    'From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001',
    'From: Dev Example <dev@example.org>',
    'Subject: [PATCH v3 2/4] iommufd: demo change',
    '',
    '> > Older quote',
    '> Newer quote',
    'Signed-off-by: Dev Example <dev@example.org>',
    '---',
    ' drivers/iommu/iommufd/demo.c | 3 ++-',
    ' 1 file changed, 2 insertions(+), 1 deletion(-)',
    '',
    'diff --git a/drivers/iommu/iommufd/demo.c b/drivers/iommu/iommufd/demo.c',
    'index 1111111..2222222 100644',
    '--- a/drivers/iommu/iommufd/demo.c',
    '+++ b/drivers/iommu/iommufd/demo.c',
    '@@ -10,6 +10,7 @@ static int demo_change(struct iommufd_access *access)',
    ' \tint rc;',
    '+\trc = iopt_add_access(&next->iopt, access);',
    '-\treturn 0;',
    'diff --git a/Documentation/demo.rst b/Documentation/demo.rst',
    '--- a/Documentation/demo.rst',
    '+++ b/Documentation/demo.rst',
    '@@ -1,1 +1,1 @@',
    '+int not_c_here(void);',
    '-- ',
  ];
  const t = tokenize(mail);
  assert.ok(t[0][0].scopes.includes('meta.separator.mbox'));
  assert.ok(scopesOf(t[1], 'From').includes('keyword.other.header.mail'));
  assert.ok(scopesOf(t[2], '[PATCH v3 2/4]').includes('entity.name.tag.patch-tag.mail'));
  assert.ok(scopesOf(t[4], 'Older quote').includes('markup.quote.level2.mail'));
  assert.ok(scopesOf(t[5], 'Newer quote').includes('markup.quote.level1.mail'));
  assert.ok(scopesOf(t[6], 'Signed-off-by').includes('support.type.trailer.mail'));
  assert.ok(scopesOf(t[8], 'drivers/iommu/iommufd/demo.c').includes('entity.name.filename.diffstat'));
  assert.ok(scopesOf(t[8], '++').includes('markup.inserted.diffstat'));
  assert.ok(scopesOf(t[15], 'static int demo_change').includes('entity.name.function.hunk-context.diff'));
  // Inside the C hunk: the +/- column is marked, the rest is C.
  assert.ok(scopesOf(t[17], '+').includes('markup.inserted.diff'));
  const call = scopesOf(t[17], 'iopt_add_access');
  assert.ok(
    call.includes('meta.embedded.block.c') &&
      call.some((s) => s.endsWith('.c') && s.startsWith('entity.name.function')),
    call.join(' '),
  );
  assert.ok(scopesOf(t[18], '-').includes('markup.deleted.diff'));
  assert.ok(scopesOf(t[18], 'return').some((s) => s.startsWith('keyword.control') && s.endsWith('.c')));
  // A hunk of a non-C file is not tokenised as C.
  const notC = scopesOf(t[23], 'not_c_here');
  assert.ok(notC.includes('markup.inserted.diff') && !notC.some((s) => s.endsWith('.c')), notC.join(' '));
});
