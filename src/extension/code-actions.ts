/**
 * Code actions on iommufd diagnostics. None of the rules has an edit that is
 * safe without understanding the code (moving an unmap after a fallible call
 * changes what the error path must undo), so no quick fix edits the source:
 * the actions open the simulator, copy the finding for a review reply, and
 * open a verified fix (the repair search's proposal, applied only when the
 * reviewer confirms it).
 */
import * as vscode from 'vscode';
import type { FindingStore } from './finding-store';
import { formatFinding } from '../report/text';
import { DIAGNOSTIC_SOURCE, hasVerifiedFixSearch, simulateArgs } from './to-vscode';
import { SELECTOR } from './code-lens';

export const SIMULATE_KIND = vscode.CodeActionKind.Empty.append('iommufd').append('simulate');
export const COPY_KIND = vscode.CodeActionKind.Empty.append('iommufd').append('copy');
/** Not a QuickFix: it opens a proposal to read (and apply only on confirmation), it edits nothing by itself. */
export const VERIFIED_FIX_KIND = vscode.CodeActionKind.Empty.append('iommufd').append('verifiedFix');

export function registerCodeActions(context: vscode.ExtensionContext, store: FindingStore): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('iommufd.copyFinding', async (text: string) => {
      await vscode.env.clipboard.writeText(text);
      void vscode.window.setStatusBarMessage('iommufd: finding copied for your reply', 3000);
    }),
    vscode.languages.registerCodeActionsProvider(
      SELECTOR,
      {
        provideCodeActions(doc, _range, ctx) {
          const actions: vscode.CodeAction[] = [];
          for (const d of ctx.diagnostics) {
            if (d.source !== DIAGNOSTIC_SOURCE) continue;
            const rule = typeof d.code === 'object' ? String(d.code.value) : String(d.code);
            for (const { finding } of store
              .atLine(doc.uri, d.range.start.line)
              .filter((s) => s.finding.ruleId === rule)) {
              const sim = new vscode.CodeAction(`Simulate this ${finding.ruleId} finding`, SIMULATE_KIND);
              sim.command = {
                command: 'iommufd.simulateFinding',
                title: sim.title,
                arguments: [simulateArgs(finding)],
              };
              sim.diagnostics = [d];
              const copy = new vscode.CodeAction('Copy the finding for a review reply', COPY_KIND);
              copy.command = { command: 'iommufd.copyFinding', title: copy.title, arguments: [formatFinding(finding)] };
              copy.diagnostics = [d];
              actions.push(sim, copy);
              const args = simulateArgs(finding);
              if (hasVerifiedFixSearch(args)) {
                const fix = new vscode.CodeAction('Show a verified fix', VERIFIED_FIX_KIND);
                fix.command = { command: 'iommufd.showVerifiedFix', title: fix.title, arguments: [args] };
                fix.diagnostics = [d];
                actions.push(fix);
              }
            }
          }
          return actions;
        },
      },
      { providedCodeActionKinds: [SIMULATE_KIND, COPY_KIND, VERIFIED_FIX_KIND] },
    ),
  );
}
