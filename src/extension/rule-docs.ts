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
    const m = /^#{1,6}\s+(.+?)\s*$/.exec(l);
    if (m && !out.has(m[1])) out.set(m[1], i + 1);
  });
  return out;
}

export async function loadRuleHeadings(extensionUri: vscode.Uri): Promise<void> {
  try {
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(extensionUri, 'docs', 'engine.md')));
    for (const [heading, line] of headingLines(text)) lines.set(heading, line);
  } catch {
    // not shipped (a development checkout without docs): links fall back to the file
  }
}

/** The rule's heading line, once the docs are read. */
export function ruleHeadingLine(ruleId: string): number | undefined {
  return lines.get(ruleId);
}
