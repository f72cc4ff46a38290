/**
 * The lock-class graph for people: a Markdown list of edges with where each
 * was taken, and a Graphviz DOT block to paste into a renderer. Cycles are
 * marked, since that is what the lock-order rule reports.
 */
import type { LockGraph } from '../engine/types';

/** Edges that lie on a cycle (A→B with a path B→…→A). */
export function edgesOnCycles(graph: LockGraph): Set<string> {
  const next = new Map<string, Set<string>>();
  for (const e of graph.edges) {
    if (!next.has(e.from)) next.set(e.from, new Set());
    next.get(e.from)!.add(e.to);
  }
  const reaches = (from: string, to: string): boolean => {
    const seen = new Set<string>([from]);
    const stack = [from];
    while (stack.length) {
      const n = stack.pop()!;
      if (n === to) return true;
      for (const m of next.get(n) ?? [])
        if (!seen.has(m)) {
          seen.add(m);
          stack.push(m);
        }
    }
    return false;
  };
  return new Set(graph.edges.filter((e) => reaches(e.to, e.from)).map((e) => `${e.from}\u0000${e.to}`));
}

function dotId(s: string): string {
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

export function formatLockGraphMarkdown(graph: LockGraph, relative: (file: string) => string = (f) => f): string {
  const cyc = edgesOnCycles(graph);
  const lines = [
    '# iommufd lock graph',
    '',
    `${graph.edges.length} edge(s) between lock classes; an edge A → B means B was taken while A was held.`,
    '',
  ];
  const sorted = [...graph.edges].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
  for (const e of sorted) {
    const mark = cyc.has(`${e.from}\u0000${e.to}`) ? ' **(on a cycle: possible deadlock)**' : '';
    const sites = e.sites
      .slice(0, 5)
      .map((s) => `${relative(s.file)}:${s.line}`)
      .join(', ');
    lines.push(
      `- \`${e.from}\` → \`${e.to}\`${mark} — ${sites}${e.sites.length > 5 ? `, and ${e.sites.length - 5} more` : ''}`,
    );
  }
  lines.push('', '```dot', 'digraph locks {', '  rankdir=LR;');
  for (const e of sorted)
    lines.push(`  ${dotId(e.from)} -> ${dotId(e.to)}${cyc.has(`${e.from}\u0000${e.to}`) ? ' [color=red]' : ''};`);
  lines.push('}', '```', '');
  return lines.join('\n');
}
