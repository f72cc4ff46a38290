/**
 * The verified-fix commands: show a finding's verified fix in the simulator
 * panel (the code action and the palette, on the finding under the cursor),
 * apply it, insert it into the review reply.
 */
import * as vscode from 'vscode';
import { requestForFinding } from './commands';
import type { CommandRegistrar } from './deferred-features';
import type { FindingStore } from './finding-store';
import type { SimulatorPanelApi } from './simulator-panel';
import { hasVerifiedFixSearch, simulateArgs, type SimulateArgs } from './to-vscode';
import type { VerifiedFixApi } from './verified-fix';

export function registerVerifiedFixCommands(
  context: vscode.ExtensionContext,
  deps: { panel: SimulatorPanelApi; fix: VerifiedFixApi; store: FindingStore; registerCommand: CommandRegistrar },
): void {
  const { panel, fix, store, registerCommand } = deps;
  const underCursor = (): SimulateArgs | undefined => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) return undefined;
    const shown = store.atLine(editor.document.uri, editor.selection.active.line).map((s) => simulateArgs(s.finding));
    return shown.find(hasVerifiedFixSearch);
  };
  context.subscriptions.push(
    registerCommand('iommufd.showVerifiedFix', async (given?: SimulateArgs) => {
      const args = given?.scenario ? given : underCursor();
      if (!args || !hasVerifiedFixSearch(args)) {
        void vscode.window.showInformationMessage(
          'iommufd: put the cursor on a finding in a replace helper (its simulation replays the function from source) to search a verified fix.',
        );
        return undefined;
      }
      await panel.show(requestForFinding(args));
      return panel.findRepair();
    }),
    registerCommand('iommufd.applyVerifiedFix', () => fix.apply()),
    registerCommand('iommufd.insertVerifiedFixIntoReply', () => fix.insertIntoReply()),
  );
}
