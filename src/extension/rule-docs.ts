/**
 * Where each rule's section starts in the shipped docs/engine.md, read once
 * at activation, so the rule links of diagnostics and hovers land on the
 * rule's heading: a `#L<line>` fragment, which VS Code's opener turns into a
 * selection (a bare `#rule-id` would open the file at line 1).
 */
import * as vscode from 'vscode';

const lines = new Map<string, number>();

/** 1-based line of every `#`-heading, by its text (`### lock-order` → `lock-order`). */
export function headingLines(markdown: string): Map<string, number> {
  const out = new Map<string, number>();
  markdown.split('\n').forEach((l, i) => {
    // `#`s, a blank, the text: sliced and trimmed rather than matched with `(.+?)\s*$`, which backtracks on blank runs.
    const hashes = /^#{1,6}/.exec(l)?.[0].length ?? 0;
    const text = hashes > 0 && /\s/.test(l[hashes] ?? '') ? l.slice(hashes).trim() : '';
    if (text !== '' && !out.has(text)) out.set(text, i + 1);
  });
  return out;
}

export async function loadRuleHeadings(extensionUri: vscode.Uri): Promise<void> {
  try {
    const text = new TextDecoder().decode(
      await vscode.workspace.fs.readFile(vscode.Uri.joinPath(extensionUri, 'docs', 'engine.md')),
    );
    for (const [heading, line] of headingLines(text)) lines.set(heading, line);
  } catch {
    // not shipped (a development checkout without docs): links fall back to the file
  }
}

/** The rule's heading line, once the docs are read. */
export function ruleHeadingLine(ruleId: string): number | undefined {
  return lines.get(ruleId);
}
