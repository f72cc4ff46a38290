/**
 * The simulator's text report: verdicts, then each counterexample as a table
 * with one column per thread (like lockdep's "possible unsafe locking
 * scenario"), each row one step, the state after it on the right.
 */
import type { SimulationResult, StateView, TraceStep } from '../sim/types';

/** The state after a step on one line: the access, each IOAS, the held locks. */
export function formatState(s: StateView): string {
  const ioas = (x: string): string => {
    const list = s.lists[x] === null ? '-' : `#${s.lists[x]}`;
    const gone = s.destroyed.includes(x) ? ' DESTROYED' : '';
    return `${x}[list ${list} users ${s.users[x]} pins ${s.pins[x]}${gone}]`;
  };
  const held = s.locks.length ? s.locks.join(',') : '-';
  return `ioas=${s.ioas ?? 'NULL'} unpin=${s.ioasUnpin ?? 'NULL'} id=${s.listId} ${ioas('A')} ${ioas('B')} held=${held}`;
}

function stepText(st: TraceStep): string {
  const where = st.line ? ` (${st.file ? `${st.file}:` : 'line '}${st.line})` : '';
  return `${st.action}${where}`;
}

/** A trace as per-thread columns; the breaking step is marked with its invariant. */
export function formatTrace(steps: TraceStep[]): string {
  const threads = [...new Set(steps.map((s) => s.thread))];
  const width = new Map(
    threads.map((t) => [t, Math.max(t.length, ...steps.filter((s) => s.thread === t).map((s) => stepText(s).length))]),
  );
  const num = String(steps.length).length;
  const row = (n: string, cells: Map<string, string>, tail: string): string =>
    `  ${n.padStart(num)}  ${threads.map((t) => (cells.get(t) ?? '').padEnd(width.get(t)!)).join(' | ')} | ${tail}`.trimEnd();
  const lines = [row('#', new Map(threads.map((t) => [t, t])), 'state after the step')];
  lines.push(`  ${'-'.repeat(num)}  ${threads.map((t) => '-'.repeat(width.get(t)!)).join('-+-')}-+-${'-'.repeat(20)}`);
  steps.forEach((s, i) => {
    const mark = s.violation ? `  <-- ${s.violation}` : '';
    lines.push(row(String(i + 1), new Map([[s.thread, stepText(s)]]), formatState(s.state) + mark));
  });
  return lines.join('\n');
}

export function formatSimText(r: SimulationResult): string {
  const out: string[] = [];
  out.push(`replace-flow simulation: variant ${r.variant}, contract ${r.contract}`);
  out.push(`threads: ${r.threads.join(', ')}; faults: ${r.faults.length ? r.faults.join(', ') : 'none'}`);
  out.push(
    `${r.states} states, ${r.transitions} transitions, ${r.complete ? 'exhaustive' : 'INCOMPLETE (state bound reached)'}, ${r.elapsedMs} ms`,
  );
  out.push('');
  const idWidth = Math.max(...r.invariants.map((i) => i.id.length));
  for (const i of r.invariants) {
    out.push(`  ${i.id.padEnd(idWidth)}  ${i.holds ? 'holds' : `VIOLATED (${i.counterexample!.steps.length} steps)`}`);
  }
  for (const i of r.invariants) {
    if (i.holds || !i.counterexample) continue;
    out.push('', `${i.id}: ${i.counterexample.message}`, '', formatTrace(i.counterexample.steps));
  }
  for (const o of r.observations) {
    out.push('', `observation ${o.id}: ${o.message}`, '', formatTrace(o.example.steps));
  }
  return out.join('\n') + '\n';
}
