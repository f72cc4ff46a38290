/**
 * Hover on a finding's line: the Simulate link first, then the rule's
 * documentation, confidence and patch status. The message and the witness are
 * not repeated: the diagnostic's own hover, just above, already shows them.
 * Only our own command is trusted.
 */
import * as vscode from 'vscode';
import type { FindingStore } from './finding-store';
import { ruleInfo } from '../report/rule-info';
import { ruleDocsUri, simulateCommandUri } from './to-vscode';
import { SELECTOR, simulateLabel } from './code-lens';

export function registerHover(context: vscode.ExtensionContext, store: FindingStore, extensionUri: vscode.Uri): void {
  context.subscriptions.push(
    vscode.languages.registerHoverProvider(SELECTOR, {
      provideHover(doc, position) {
        const here = store.atLine(doc.uri, position.line);
        if (here.length === 0) return undefined;
        const parts = here.map(({ finding }) => {
          const md = new vscode.MarkdownString(undefined, true);
          md.isTrusted = { enabledCommands: ['iommufd.simulateFinding'] };
          md.appendMarkdown(
            `[$(debug-start) ${simulateLabel(finding.scenario.variant)}](${simulateCommandUri(finding).toString(true)} "Replay this finding's witness in the simulator")`,
          );
          md.appendMarkdown(
            ` · [${ruleInfo(finding.ruleId).name}](${ruleDocsUri(extensionUri, finding.ruleId).toString()} "The rule's documentation, at its section")`,
          );
          md.appendMarkdown(` · **iommufd ${finding.ruleId}** · ${finding.confidence} confidence`);
          if ('status' in finding) md.appendMarkdown(` · ${finding.status} by this patch`);
          return md;
        });
        return new vscode.Hover(parts);
      },
    }),
  );
}
