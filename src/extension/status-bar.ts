/** One status bar item: what the analysis is doing, findings, and how much of the code was parsed. */
import * as vscode from 'vscode';
import type { AnalysisState, LiveAnalysis } from './analysis/live-analysis';

export function coverageText(state: AnalysisState): string {
  const c = state.coverage;
  if (!c) return '';
  const total = c.functions.parsed + c.functions.partial + c.functions.skipped;
  if (total === 0) return 'no functions';
  return `${Math.round((100 * c.functions.parsed) / total)}% parsed`;
}

export function registerStatusBar(context: vscode.ExtensionContext, analysis: LiveAnalysis): vscode.StatusBarItem {
  const item = vscode.window.createStatusBarItem('iommufd.status', vscode.StatusBarAlignment.Left, 10);
  item.name = 'iommufd review';
  item.command = 'iommufd.showLog';
  const update = (state: AnalysisState): void => {
    switch (state.phase) {
      case 'idle':
        item.text = '$(shield) iommufd';
        item.tooltip = 'iommufd review: open a C file or a patch';
        break;
      case 'loading':
        item.text = '$(sync~spin) iommufd: loading the C parser';
        item.tooltip = state.message ?? 'loading the C parser';
        break;
      case 'reading': {
        const p = state.progress;
        // the open files' own findings are already out while their context is read
        const n = state.findings;
        const found = n === undefined ? '' : ` · ${n} finding${n === 1 ? '' : 's'} so far`;
        item.text = `$(sync~spin) iommufd: reading context ${p ? `${p.done}/${p.total}` : ''}`.trimEnd() + found;
        item.tooltip = state.message ?? 'reading context files';
        break;
      }
      case 'analysing': {
        const f = state.files;
        item.text = `$(sync~spin) iommufd: analysing ${f ? `${f.open + f.context} files` : ''}`.trimEnd();
        item.tooltip = state.message ?? 'analysing the open C files';
        break;
      }
      case 'error':
        item.text = '$(error) iommufd';
        item.tooltip = state.message ?? 'analysis failed: see the output log';
        break;
      case 'ready': {
        const n = state.findings ?? 0;
        const c = state.coverage;
        item.text = `${n > 0 ? '$(warning)' : '$(check)'} iommufd: ${n} finding${n === 1 ? '' : 's'} · ${coverageText(state)}`;
        const f = state.files;
        // coverage counts the reported (open) files; the context read with them is said too
        const read = f
          ? `${f.open} open file${f.open === 1 ? '' : 's'} analysed with ${f.context} context file${f.context === 1 ? '' : 's'}`
          : `${c?.files ?? 0} file(s)`;
        item.tooltip = c
          ? `${read}; functions of the open files parsed ${c.functions.parsed}, partial ${c.functions.partial}, skipped ${c.functions.skipped}; ${state.elapsedMs ?? 0} ms. Click for the log.`
          : 'iommufd review';
        break;
      }
    }
  };
  update(analysis.state);
  item.show();
  context.subscriptions.push(item, analysis.onDidChangeState(update));
  return item;
}
