/**
 * Hover on a finding's line: the finding as a reviewer would paste it, its
 * witness, and links to simulate it and to the rule's documentation. Text from
 * the source (function names, messages) is appended as plain text, never as
 * markdown, and only our own command is trusted.
 */
import * as vscode from 'vscode';
import type { FindingStore } from './finding-store';
import { ruleInfo } from '../report/rule-info';
import { ruleDocsUri, simulateCommandUri } from './to-vscode';
import { SELECTOR } from './code-lens';

export function registerHover(context: vscode.ExtensionContext, store: FindingStore, extensionUri: vscode.Uri): void {
  context.subscriptions.push(
    vscode.languages.registerHoverProvider(SELECTOR, {
      provideHover(doc, position) {
        const here = store.atLine(doc.uri, position.line);
        if (here.length === 0) return undefined;
        const parts = here.map(({ finding }) => {
          const md = new vscode.MarkdownString(undefined, true);
          md.isTrusted = { enabledCommands: ['iommufd.simulateFinding'] };
          md.appendMarkdown(`**iommufd ${finding.ruleId}** · ${finding.severity} · ${finding.confidence} confidence`);
          if ('status' in finding) md.appendMarkdown(` · ${finding.status} by this patch`);
          md.appendMarkdown('\n\n');
          md.appendText(finding.message);
          md.appendMarkdown('\n\n');
          for (const r of finding.related) {
            md.appendMarkdown('- ');
            md.appendText(`${vscode.workspace.asRelativePath(r.file)}:${r.line}: ${r.message}`);
            md.appendMarkdown('\n');
          }
          md.appendMarkdown(`\n[$(debug-start) Simulate](${simulateCommandUri(finding).toString(true)} "Open the simulator on this finding's scenario")`);
          md.appendMarkdown(` · [${ruleInfo(finding.ruleId).name}](${ruleDocsUri(extensionUri, finding.ruleId).toString()} "The rule's documentation")`);
          return md;
        });
        return new vscode.Hover(parts);
      },
    }),
  );
}
