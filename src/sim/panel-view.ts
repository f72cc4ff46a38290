/**
 * What the simulator panel shows, computed on the host side as plain data so
 * the webview only lays it out (and tests read it without a browser): the
 * headline, the verdicts, and each counterexample as lanes with the state
 * after every step as a compact per-thread table whose changed cells are
 * marked.
 */
import type { FindingSimulation } from './finding';
import type { RepairReport } from './repair/propose';
import type { SimulationResult, StateView, TraceStep } from './types';
import type { WitnessModelResult, WitnessStateView, WitnessTraceStep } from './witness-model';

export interface StateCell {
  /** The row of the state table: a thread (`replacer`, `CPU0`) or a shared object (`access`, `IOAS A`). */
  owner: string;
  key: string;
  value: string;
  /** Different from the step before (or from the initial state for the first step). */
  changed: boolean;
}

export interface PanelRow {
  lane: number;
  action: string;
  file?: string;
  line?: number;
  /** The calls the step was reached through: `toy_detach_locked(access) (line 32)`. */
  via?: string;
  /** The finding's words for the witness step this row replays. */
  note?: string;
  violation?: string;
  state: StateCell[];
}

export interface PanelTrace {
  invariant: string;
  message: string;
  lanes: string[];
  rows: PanelRow[];
}

export interface PanelView {
  kind: 'replace-flow' | 'lock-model' | 'none' | 'variant';
  /** The first line: for a finding, what broke in the finding's words. */
  headline: string;
  note?: string;
  stats?: string;
  verdicts: { id: string; holds: boolean; message?: string; steps?: number }[];
  /** The trace shown first. */
  primary?: string;
  traces: PanelTrace[];
}

type Cells = Omit<StateCell, 'changed'>[];

function replaceCells(s: StateView, lanes: readonly string[]): Cells {
  const out: Cells = [
    { owner: 'access', key: 'ioas', value: s.ioas ?? 'NULL' },
    { owner: 'access', key: 'ioas_unpin', value: s.ioasUnpin ?? 'NULL' },
    { owner: 'access', key: 'list id', value: String(s.listId) },
  ];
  for (const x of Object.keys(s.pins)) {
    out.push(
      {
        owner: `IOAS ${x}`,
        key: 'list',
        value: s.lists[x] === null || s.lists[x] === undefined ? '-' : `#${s.lists[x]}`,
      },
      { owner: `IOAS ${x}`, key: 'users', value: String(s.users[x] ?? 0) },
      { owner: `IOAS ${x}`, key: 'pins', value: String(s.pins[x]) },
      { owner: `IOAS ${x}`, key: 'alive', value: s.destroyed.includes(x) ? 'destroyed' : 'yes' },
    );
  }
  for (const lane of lanes) out.push({ owner: lane, key: 'holds', value: heldBy(s.locks, lane) });
  return out;
}

function lockCells(s: WitnessStateView, lanes: readonly string[], ownership: boolean): Cells {
  const out: Cells = lanes.map((lane) => ({ owner: lane, key: 'holds', value: heldBy(s.locks, lane) }));
  // a trace that stores into an owning field is about what the field owns and what is lost, nothing else
  if (ownership)
    out.push(
      { owner: 'shared', key: 'owns', value: s.owns.join(', ') || '-' },
      { owner: 'shared', key: 'leaked', value: s.leaked.join(', ') || '-' },
    );
  else
    out.push(
      { owner: 'shared', key: 'undoable', value: s.lost ? 'no' : 'yes' },
      { owner: 'shared', key: 'changed', value: s.written ? 'yes' : 'no' },
      { owner: 'shared', key: 'object', value: s.replaced ? 'freed/replaced' : 'as read' },
    );
  return out;
}

/** `lock@thread` entries held by one thread, or `-`. */
function heldBy(locks: readonly string[], lane: string): string {
  const mine = locks.filter((l) => l.endsWith(`@${lane}`)).map((l) => l.slice(0, l.lastIndexOf('@')));
  return mine.length ? mine.join(', ') : '-';
}

function withChanges(rows: Cells[], initial: Cells): StateCell[][] {
  let prev = new Map(initial.map((c) => [`${c.owner}|${c.key}`, c.value]));
  return rows.map((cells) => {
    const out = cells.map((c) => ({ ...c, changed: prev.get(`${c.owner}|${c.key}`) !== c.value }));
    prev = new Map(cells.map((c) => [`${c.owner}|${c.key}`, c.value]));
    return out;
  });
}

/** The initial replace-flow state (see docs/simulator.md): attached to A at slot 1, one pin in A, B unused. */
const INITIAL_REPLACE: StateView = {
  ioas: 'A',
  ioasUnpin: 'A',
  listId: 1,
  locks: [],
  pins: { A: 1, B: 0 },
  lists: { A: 1, B: null },
  users: { A: 1, B: 0 },
  destroyed: [],
};
const INITIAL_LOCKS: WitnessStateView = {
  locks: [],
  lost: false,
  written: false,
  replaced: false,
  owns: [],
  leaked: [],
};

function viaText(s: { via?: { action: string; line: number }[] }): string | undefined {
  return s.via?.map((v) => `${v.action} (line ${v.line})`).join(' › ');
}

function replaceTrace(
  invariant: string,
  message: string,
  threads: readonly string[],
  steps: readonly TraceStep[],
  notes: Map<number, string>,
): PanelTrace {
  const lanes = [...threads];
  for (const s of steps) if (!lanes.includes(s.thread)) lanes.push(s.thread);
  const states = withChanges(
    steps.map((s) => replaceCells(s.state, lanes)),
    replaceCells(INITIAL_REPLACE, lanes),
  );
  const rows = steps.map((s, i): PanelRow => {
    const via = viaText(s);
    return {
      lane: lanes.indexOf(s.thread),
      action: s.action,
      ...(s.file ? { file: s.file } : {}),
      ...(s.line !== undefined ? { line: s.line } : {}),
      ...(via ? { via } : {}),
      ...(notes.has(i) ? { note: notes.get(i)! } : {}),
      ...(s.violation ? { violation: s.violation } : {}),
      state: states[i],
    };
  });
  return { invariant, message, lanes, rows };
}

function lockTrace(
  invariant: string,
  message: string,
  res: WitnessModelResult,
  steps: readonly WitnessTraceStep[],
  notes: Map<number, string>,
): PanelTrace {
  const lanes = res.threads.map((t, i) => `${t} ${res.threadRoles[i]}`);
  const ownership = steps.some((s) => s.state.owns.length > 0);
  const states = withChanges(
    steps.map((s) => lockCells(s.state, res.threads, ownership)),
    lockCells(INITIAL_LOCKS, res.threads, ownership),
  );
  // state rows are keyed by the short thread name; the lanes carry its role too
  const rows = steps.map((s, i): PanelRow => ({
    lane: res.threads.indexOf(s.thread),
    action: s.action,
    ...(s.file ? { file: s.file } : {}),
    ...(s.line !== undefined ? { line: s.line } : {}),
    ...(notes.has(i) ? { note: notes.get(i)! } : {}),
    ...(s.violation ? { violation: s.violation } : {}),
    state: states[i],
  }));
  return { invariant, message, lanes, rows };
}

function stats(r: { states: number; transitions: number; elapsedMs: number; complete: boolean }): string {
  return `${r.states} states, ${r.transitions} transitions, ${r.elapsedMs} ms${r.complete ? ', exhaustive' : ', stopped at the state bound'}`;
}

type Verdicts = { id: string; holds: boolean; counterexample?: { message: string; steps: unknown[] } }[];

function verdictsOf(invariants: Verdicts): PanelView['verdicts'] {
  return invariants.map((i) => ({
    id: i.id,
    holds: i.holds,
    ...(i.counterexample ? { message: i.counterexample.message, steps: i.counterexample.steps.length } : {}),
  }));
}

/** A plain simulation (the palette's variants): every broken invariant's trace, the preferred one first. */
export function viewOfResult(result: SimulationResult, preferred?: string): PanelView {
  const broken = result.invariants.filter((i) => !i.holds);
  const primary = (broken.find((i) => i.id === preferred) ?? broken[0])?.id;
  const first = broken.find((i) => i.id === primary);
  return {
    kind: 'variant',
    headline: first?.counterexample
      ? `${first.id} broken: ${first.counterexample.message}`
      : 'Every invariant holds within the bounds.',
    stats: stats(result),
    verdicts: verdictsOf(result.invariants),
    ...(primary ? { primary } : {}),
    traces: broken.map((i) =>
      replaceTrace(i.id, i.counterexample!.message, result.threads, i.counterexample!.steps, new Map()),
    ),
  };
}

/** A finding's simulation: its headline first, the named invariant's trace with the witness's words on its steps. */
export function viewOfFinding(sim: FindingSimulation): PanelView {
  const notes = new Map<number, string>();
  sim.placed.forEach((at, i) => {
    if (at === undefined) return;
    const w = sim.witness[i];
    notes.set(at, notes.has(at) ? `${notes.get(at)}; ${w.message}` : w.message);
  });
  const base = { kind: sim.kind, headline: sim.headline, ...(sim.note ? { note: sim.note } : {}) };
  const notesOf = (id: string): Map<number, string> => (id === sim.invariant ? notes : new Map());
  const res = sim.replace ?? sim.model;
  if (!res) return { ...base, verdicts: [], traces: [] };
  const traces = sim.replace
    ? sim.replace.invariants
        .filter((i) => !i.holds)
        .map((i) =>
          replaceTrace(i.id, i.counterexample!.message, sim.replace!.threads, i.counterexample!.steps, notesOf(i.id)),
        )
    : sim
        .model!.invariants.filter((i) => !i.holds)
        .map((i) => lockTrace(i.id, i.counterexample!.message, sim.model!, i.counterexample!.steps, notesOf(i.id)));
  return {
    ...base,
    stats: stats(res),
    verdicts: verdictsOf(res.invariants),
    ...(sim.broken && sim.invariant ? { primary: sim.invariant } : {}),
    traces,
  };
}

/** One line of the proposal's unified diff, classified so the UI colours it without parsing anything. */
export interface DiffLine {
  kind: 'file' | 'hunk' | 'add' | 'del' | 'context';
  text: string;
}

/** What the panel shows for a repair search: the proposal, or why there is none. */
export interface RepairPanelView {
  function: string;
  /** A proposal the simulator verified and the engine re-analysed clean. */
  verified: boolean;
  headline: string;
  /** The edits, in a reviewer's words. */
  edits: string[];
  /** The repaired function's main path, in order (added steps have no line). */
  steps: { action: string; line?: number }[];
  /** The invariants the proposal was checked against, with their verdicts. */
  invariants: { id: string; holds: boolean }[];
  /** The verification run: states, transitions, time. */
  stats?: string;
  /** The whole search: candidates, runs, states, time. */
  search: string;
  /** The bound that stopped the search, or why there is no proposal. */
  shortfall?: string;
  diff: DiffLine[];
  /** The edit can be applied to the file (a verified proposal with a source edit). */
  applicable: boolean;
  /** The paragraph "Insert into reply" puts into the review reply. */
  reply?: string;
}

function diffLines(diff: string): DiffLine[] {
  const out: DiffLine[] = [];
  for (const text of diff.replace(/\n$/, '').split('\n')) {
    if (text === '' && out.length === 0) continue;
    if (/^=+$/.test(text)) continue;
    const kind: DiffLine['kind'] =
      text.startsWith('+++') || text.startsWith('---')
        ? 'file'
        : text.startsWith('@@')
          ? 'hunk'
          : text.startsWith('+')
            ? 'add'
            : text.startsWith('-')
              ? 'del'
              : 'context';
    out.push({ kind, text });
  }
  return out;
}

/**
 * The panel's view of a repair report. The reply paragraph and the shortfall
 * are worded by the report layer (src/report/repair.ts) and handed in, so the
 * panel and the reply say the same thing.
 */
export function viewOfRepair(r: RepairReport, worded: { reply?: string; shortfall?: string } = {}): RepairPanelView {
  const s = r.search;
  const p = s.proposal;
  const main = p ? p.steps.slice(0, p.steps.findIndex((x) => x.op === 'return') + 1 || p.steps.length) : [];
  const verification = p?.verification;
  const headline =
    r.verified && p
      ? `An order of ${r.function}() that keeps every invariant, checked over ${p.verification.states} states.`
      : s.broken.length === 0
        ? `Every invariant already holds for ${r.function}(): nothing to repair.`
        : `No verified order for ${r.function}().`;
  return {
    function: r.function,
    verified: r.verified,
    headline,
    edits: p ? p.edits.map((e) => e.description) : [],
    steps: main.map((x) => ({ action: x.action, ...(x.line ? { line: x.line } : {}) })),
    invariants: verification ? verification.invariants.map((i) => ({ id: i.id, holds: i.holds })) : [],
    ...(verification ? { stats: stats(verification) } : {}),
    search: `searched ${s.candidates} candidates (${s.fullRuns} full explorations, ${s.states} states) in ${s.elapsedMs} ms; broken as written: ${s.broken.join(', ') || 'nothing'}`,
    ...(worded.shortfall ? { shortfall: worded.shortfall } : {}),
    diff: r.edit ? diffLines(r.edit.diff) : [],
    applicable: r.verified && !!r.edit,
    ...(worded.reply ? { reply: worded.reply } : {}),
  };
}
