/**
 * The mechanical fix of a lock-leak finding: the leaking return releases the
 * lock the way the function's own releasing paths do. When the function
 * already unwinds through a label that releases the lock and returns a
 * variable, and the leaking return returns that variable, it jumps there;
 * otherwise the function's own release statement is written before the
 * return (braces added around a braceless `if` body). The fix is offered
 * only when the engine re-analyses the edited file with no lock-leak left
 * in the function and no new finding.
 */
import type { CParser, SyntaxNode } from '../../engine/parse/syntax';
import type { Finding } from '../../engine/types';
import { blankAnnotations } from '../../engine/parse/blank-annotations';
import { reanalyse } from './reanalyse';
import type { Reanalysis } from './reanalyse';
import { editBetween, findFunction, indentOf, namedKids } from './source-edit';
import type { SourceEdit } from './source-edit';
import { escapeRegExp } from '../../engine/text-scan';

export interface QuickFix {
  /** The action's title (`Release w->win_lock before this return`). */
  title: string;
  edit: Omit<SourceEdit, 'inlined'>;
  reanalysis: Reanalysis;
}

function walk(n: SyntaxNode, visit: (n: SyntaxNode) => void): void {
  visit(n);
  for (const c of namedKids(n)) walk(c, visit);
}

/** The first argument of the first call on a line (`&w->lock` of `mutex_lock(&w->lock);`), by a linear scan. */
function firstArgument(line: string): string | undefined {
  const open = line.indexOf('(');
  if (open < 0) return undefined;
  let end = open + 1;
  while (end < line.length && line[end] !== ',' && line[end] !== ')') end++;
  const arg = line.slice(open + 1, end).trim();
  return arg || undefined;
}

/** What a `return X;` line returns (`''` for a bare return), undefined for another line. */
function returnedValue(line: string): string | undefined {
  const t = line.trimStart();
  if (!t.startsWith('return') || /\w/.test(t.charAt(6))) return undefined;
  const semi = t.indexOf(';');
  return semi < 0 ? undefined : t.slice(6, semi).trim();
}

/** The lock-leak quick fix for `finding` in `text`, or undefined when none re-analyses clean. */
export function lockLeakFix(
  parser: CParser,
  text: string,
  finding: Pick<Finding, 'ruleId' | 'file' | 'function' | 'line' | 'related'>,
): QuickFix | undefined {
  if (finding.ruleId !== 'lock-leak') return undefined;
  const lines = text.split('\n');
  const acquire = finding.related.find((r) => r.role === 'acquire');
  if (!acquire) return undefined;
  // the lock's expression as the acquire wrote it: the first argument of the call on that line
  const lockExpr = firstArgument(lines[acquire.line - 1] ?? '');
  if (!lockExpr) return undefined;
  const tree = parser.parse(blankAnnotations(text));
  if (!tree) return undefined;
  try {
    const fn = findFunction(tree.rootNode, finding.function);
    const body = fn?.childForFieldName('body');
    if (!fn || !body) return undefined;
    // the function's own release of this lock (`mutex_unlock(&w->win_lock);`)
    const releaseRe = new RegExp(
      `^\\s*((?:\\w*unlock\\w*|up_read|up_write)\\s*\\(\\s*${escapeRegExp(lockExpr)}\\s*[,)][^;]*;)\\s*$`,
    );
    let release: string | undefined;
    let ret: SyntaxNode | undefined;
    const labels: { name: string; release: boolean; returns?: string }[] = [];
    walk(body, (n) => {
      if (!release && n.type === 'expression_statement') release = releaseRe.exec(n.text)?.[1];
      if (n.type === 'return_statement' && n.startPosition.row === finding.line - 1) ret ??= n;
      if (n.type === 'labeled_statement') {
        // what the code from the label on does, up to the next return
        const from = n.startPosition.row;
        let releases = false;
        let returns: string | undefined;
        for (let r = from; r < lines.length && r <= body.endPosition.row; r++) {
          if (releaseRe.test(lines[r].replace(/^\s*\w+:\s*/, ''))) releases = true;
          const value = returnedValue(lines[r]);
          if (value !== undefined) {
            returns = value;
            break;
          }
        }
        labels.push({
          name: n.childForFieldName('label')?.text ?? n.text.split(':')[0].trim(),
          release: releases,
          returns,
        });
      }
    });
    if (!release || !ret) return undefined;
    const value = ret.text
      .replace(/^return\s*/, '')
      .replace(/;$/, '')
      .trim();
    const label = labels.find((l) => l.release && l.returns !== undefined && l.returns === value && value !== '');
    const row = ret.startPosition.row;
    const indent = indentOf(lines[row]);
    const stmt = label ? `goto ${label.name};` : undefined;
    const parent = ret.parent;
    const out = [...lines];
    if (parent?.type === 'if_statement' && parent.childForFieldName('consequence')?.startIndex === ret.startIndex) {
      const ifRow = parent.startPosition.row;
      const outer = indentOf(lines[ifRow]);
      const cond = parent.childForFieldName('condition')?.text ?? '';
      const inner = stmt ? [`${outer}\t${stmt}`] : [`${outer}\t${release}`, `${outer}\t${ret.text}`];
      const replacement = stmt ? [`${outer}if ${cond}`, ...inner] : [`${outer}if ${cond} {`, ...inner, `${outer}}`];
      out.splice(ifRow, row - ifRow + 1, ...replacement);
    } else if (stmt) out.splice(row, 1, lines[row].replace(ret.text, stmt));
    else out.splice(row, 0, `${indent}${release}`);
    const newText = out.join('\n');
    const reanalysis = reanalyse(parser, finding.file, text, newText, finding.function, ['lock-leak']);
    if (!reanalysis.gone || reanalysis.introduced.length > 0) return undefined;
    const title = label
      ? `Unwind through \`${label.name}:\`, which releases ${lockExpr}`
      : `Release ${lockExpr} before this return`;
    return { title, edit: editBetween(finding.file, finding.function, text, newText), reanalysis };
  } finally {
    parser.free(tree);
  }
}
