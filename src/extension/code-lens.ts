/** A "Simulate" lens above every finding, opening the simulator on its scenario. */
import * as vscode from 'vscode';
import type { FindingStore } from './finding-store';
import { simulateArgs } from './to-vscode';
import type { ScenarioVariant } from '../engine/types';

// Any scheme: lenses come from the finding store, which only holds the
// documents the analysis accepted (isUserDocument), so a git: view gets none.
export const SELECTOR: vscode.DocumentSelector = [
  { language: 'c' },
  { language: 'cpp' },
  { language: 'iommufd-patch' },
];

/** What the Simulate link runs, in words: the replace flow, the lock model of the witness, or nothing. */
export function simulateLabel(variant: ScenarioVariant): string {
  if (variant === 'lock-model') return 'Simulate (lock model)';
  if (variant === 'none') return 'No simulation (why)';
  if (variant === 'from-source') return 'Simulate (replace flow from source)';
  return `Simulate (replace flow, ${variant})`;
}

export function registerCodeLens(context: vscode.ExtensionContext, store: FindingStore): void {
  const changed = new vscode.EventEmitter<void>();
  context.subscriptions.push(
    changed,
    store.onDidChange(() => changed.fire()),
    vscode.languages.registerCodeLensProvider(SELECTOR, {
      onDidChangeCodeLenses: changed.event,
      provideCodeLenses(doc) {
        return store.get(doc.uri).map(({ finding, line }) => {
          const l = Math.min(Math.max(0, line - 1), Math.max(0, doc.lineCount - 1));
          return new vscode.CodeLens(new vscode.Range(l, 0, l, 0), {
            title: `$(debug-start) ${simulateLabel(finding.scenario.variant)
              .replace(/^Simulate/, `Simulate ${finding.ruleId}`)
              .replace(/^No simulation/, `No simulation for ${finding.ruleId}`)}`,
            tooltip: `Replay the witness of this ${finding.ruleId} finding in the simulator`,
            command: 'iommufd.simulateFinding',
            arguments: [simulateArgs(finding)],
          });
        });
      },
    }),
  );
}
