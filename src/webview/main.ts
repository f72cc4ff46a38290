/**
 * The simulator panel's UI. Every string shown here may come from a patch or a
 * source file (actions, messages, function names): it is only ever set with
 * textContent, never parsed as HTML. The request is persisted with setState so
 * the panel comes back the same after being hidden or after a reload.
 */
import { canRepair, type HostMessage, type PanelRequest, type PanelState, type UiMessage } from '../sim/panel-protocol';
import type { PanelRow, PanelTrace, PanelView, RepairPanelView } from '../sim/panel-view';

interface VsCodeApi {
  postMessage(m: UiMessage): void;
  getState(): PanelState | undefined;
  setState(s: PanelState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app') as HTMLElement;

const VARIANTS = ['merged', 'v8', 'v7', 'unmap-under-lock', 'from-source'] as const;
const THREADS = ['replacer', 'driver', 'user-unmap', 'detach', 'destroy'] as const;
const FAULTS = ['add-access', 'lookup', 'reattach'] as const;
const CONTRACTS = ['status-quo', 'usable'] as const;

let request: PanelRequest | undefined = vscode.getState()?.request;
let view: PanelView | undefined;
let shownInvariant: string | undefined;
let currentStep = 0;

/** The last three segments of a path: enough to tell files apart in a narrow panel. */
function shortPath(file: string): string {
  const parts = file.split('/');
  return parts.length > 3 ? `…/${parts.slice(-3).join('/')}` : file;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string; attrs?: Record<string, string> } = {},
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.className) e.className = props.className;
  if (props.text !== undefined) e.textContent = props.text;
  for (const [k, v] of Object.entries(props.attrs ?? {})) e.setAttribute(k, v);
  for (const c of children) e.appendChild(c);
  return e;
}

function select(
  id: string,
  options: readonly string[],
  value: string,
  disabled: readonly string[] = [],
): HTMLSelectElement {
  const s = el('select', { attrs: { id } });
  for (const o of options) {
    const opt = el('option', { text: o, attrs: { value: o } });
    if (disabled.includes(o)) opt.disabled = true;
    s.appendChild(opt);
  }
  s.value = value;
  return s;
}

function checkboxes(
  name: string,
  options: readonly string[],
  checked: readonly string[],
  locked: readonly string[] = [],
): HTMLElement {
  const box = el('span', { className: 'checks', attrs: { id: name } });
  for (const o of options) {
    const input = el('input', { attrs: { type: 'checkbox', value: o, name } });
    input.checked = checked.includes(o);
    input.disabled = locked.includes(o);
    box.appendChild(el('label', {}, input, document.createTextNode(o)));
  }
  return box;
}

function checkedOf(form: HTMLElement, name: string): string[] {
  return Array.from(form.querySelectorAll<HTMLInputElement>(`input[name="${name}"]`))
    .filter((i) => i.checked)
    .map((i) => i.value);
}

function send(m: UiMessage): void {
  vscode.postMessage(m);
}

function persist(): void {
  if (request) vscode.setState({ request });
}

function renderForm(): HTMLElement {
  const given = request ?? {
    variant: 'v8',
    threads: ['replacer', 'driver'],
    faults: ['add-access'],
    contract: 'status-quo',
  };
  // a finding's lock model is not a replace-flow variant: the form starts from v8 for a run of one's own
  const r: PanelRequest =
    given.variant === 'lock-model' || given.variant === 'none'
      ? { variant: 'v8', threads: ['replacer', 'driver'], faults: ['add-access'], contract: 'status-quo' }
      : given;
  const form = el('form', { className: 'controls', attrs: { id: 'controls' } });
  const fromSourceOk = Boolean(r.function);
  form.append(
    el('label', { text: 'Variant ' }, select('variant', VARIANTS, r.variant, fromSourceOk ? [] : ['from-source'])),
    el('label', { text: 'Contract ' }, select('contract', CONTRACTS, r.contract)),
    el(
      'div',
      { className: 'row' },
      el('span', { text: 'Threads: ' }),
      checkboxes('threads', THREADS, r.threads, ['replacer']),
    ),
    el('div', { className: 'row' }, el('span', { text: 'Faults: ' }), checkboxes('faults', FAULTS, r.faults)),
    el('button', { text: 'Run', attrs: { type: 'submit', id: 'run' } }),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    // a run of one's own: the settings chosen here, no longer the finding's replay
    const { finding: _finding, invariant: _invariant, ...rest } = r;
    const next: PanelRequest = {
      ...rest,
      variant: (form.querySelector('#variant') as HTMLSelectElement).value as PanelRequest['variant'],
      contract: (form.querySelector('#contract') as HTMLSelectElement).value as PanelRequest['contract'],
      threads: ['replacer', ...checkedOf(form, 'threads').filter((t) => t !== 'replacer')] as PanelRequest['threads'],
      faults: checkedOf(form, 'faults') as PanelRequest['faults'],
    };
    request = next;
    persist();
    send({ type: 'run', request: next });
  });
  return form;
}

function sourceLink(file: string, line: number, follow = false): HTMLElement {
  const link = el('a', { text: `${shortPath(file)}:${line}`, attrs: { href: '#', class: 'source-link', title: file } });
  link.addEventListener('click', (ev) => {
    ev.preventDefault();
    ev.stopPropagation();
    send({ type: 'openSource', file, line, follow });
  });
  return link;
}

function titleOf(r: PanelRequest | undefined): string {
  if (!r) return 'Replace flow';
  if (r.variant === 'lock-model')
    return `Lock model: ${r.finding?.function ?? r.function ?? 'the finding'}() and the threads its witness needs`;
  if (r.variant === 'none') return `No simulation: ${r.finding?.ruleId ?? ''}`;
  if (r.variant === 'from-source' && r.function) return `Replace flow: ${r.function}() from source`;
  return `Replace flow: ${r.variant}`;
}

function renderHeader(): HTMLElement {
  const h = el('header', {});
  const r = request;
  // the first line says what broke, in the finding's words (or the verdict of a run of one's own)
  if (view)
    h.appendChild(
      el('p', {
        className: `headline ${view.primary ? 'broken' : 'holds'}`,
        text: view.headline,
        attrs: { id: 'headline' },
      }),
    );
  h.appendChild(el('h1', { text: titleOf(r) }));
  if (r?.finding) {
    const f = r.finding;
    const p = el('p', { className: 'finding', attrs: { id: 'finding' } });
    p.appendChild(el('strong', { text: `${f.ruleId}: ` }));
    p.appendChild(document.createTextNode(`${f.message} (`));
    p.appendChild(sourceLink(f.file, f.line));
    p.appendChild(document.createTextNode(')'));
    h.appendChild(p);
  }
  if (view?.note) h.appendChild(el('p', { className: 'note', text: view.note, attrs: { id: 'note' } }));
  return h;
}

function renderVerdicts(v: PanelView): HTMLElement {
  const list = el('ul', { className: 'verdicts', attrs: { id: 'verdicts' } });
  for (const inv of v.verdicts) {
    const li = el('li', {
      className: inv.holds ? 'holds' : 'broken',
      attrs: { 'data-invariant': inv.id, 'data-holds': String(inv.holds) },
    });
    li.appendChild(el('span', { className: 'mark', text: inv.holds ? '✓' : '✗' }));
    li.appendChild(el('span', { className: 'inv', text: ` ${inv.id}` }));
    if (inv.message) {
      li.appendChild(el('span', { className: 'msg', text: ` — ${inv.message} (${inv.steps ?? 0} steps)` }));
      li.classList.add('clickable');
      li.addEventListener('click', () => {
        shownInvariant = inv.id;
        currentStep = 0;
        render();
      });
    }
    list.appendChild(li);
  }
  return list;
}

/** Moves to a step; the editor follows it to its source line while the panel keeps the focus. */
function goToStep(step: number, trace: PanelTrace): void {
  currentStep = step;
  const row = trace.rows[step];
  if (row?.file && row.line !== undefined) send({ type: 'openSource', file: row.file, line: row.line, follow: true });
  render();
}

function renderLanes(trace: PanelTrace): HTMLElement {
  const table = el('table', { className: 'lanes', attrs: { id: 'lanes' } });
  const head = el('tr', {}, el('th', { text: '#' }));
  for (const t of trace.lanes) head.appendChild(el('th', { text: t, attrs: { 'data-lane': t } }));
  // a finding's replay: the finding's own words for its steps; a run of one's own: only the verdict
  head.appendChild(el('th', { text: view?.kind === 'variant' ? 'verdict' : 'the finding says' }));
  table.appendChild(el('thead', {}, head));
  const body = el('tbody', {});
  trace.rows.forEach((row: PanelRow, index) => {
    const tr = el('tr', {
      className: `step${index === currentStep ? ' current' : ''}${row.violation ? ' violation' : ''}${row.note ? ' witness' : ''}`,
      attrs: { 'data-step': String(index), 'data-lane': trace.lanes[row.lane] ?? '' },
    });
    tr.appendChild(el('td', { className: 'n', text: String(index + 1) }));
    trace.lanes.forEach((_, lane) => {
      const td = el('td', { className: lane === row.lane ? 'action' : 'idle' });
      if (lane === row.lane) {
        td.appendChild(el('code', { text: row.action }));
        if (row.line !== undefined)
          td.appendChild(el('span', { className: 'where', text: ` ${row.file?.split('/').pop() ?? ''}:${row.line}` }));
        if (row.via) td.appendChild(el('div', { className: 'via', text: `via ${row.via}` }));
      }
      tr.appendChild(td);
    });
    const said = el('td', { className: 'note', text: row.note ?? '' });
    if (row.violation)
      said.appendChild(el('strong', { className: 'breaks', text: `${row.note ? ' — ' : ''}breaks ${row.violation}` }));
    tr.appendChild(said);
    tr.addEventListener('click', () => goToStep(index, trace));
    body.appendChild(tr);
  });
  table.appendChild(body);
  return table;
}

/** The state after the current step: one row per thread or object, the cells that changed marked. */
function renderState(row: PanelRow, lanes: readonly string[]): HTMLElement {
  const table = el('table', { className: 'state-table', attrs: { id: 'state-detail' } });
  const owners: string[] = [];
  for (const c of row.state) if (!owners.includes(c.owner)) owners.push(c.owner);
  const body = el('tbody', {});
  for (const owner of owners) {
    const tr = el('tr', { attrs: { 'data-owner': owner } });
    const acting = lanes[row.lane]?.split(' ')[0] === owner;
    tr.appendChild(el('th', { text: owner, className: acting ? 'acting' : '' }));
    const td = el('td', {});
    for (const c of row.state.filter((x) => x.owner === owner)) {
      td.appendChild(
        el('span', {
          className: `cell${c.changed ? ' changed' : ''}`,
          text: `${c.key} ${c.value}`,
          attrs: { 'data-key': c.key, ...(c.changed ? { title: 'changed by this step' } : {}) },
        }),
      );
    }
    tr.appendChild(td);
    body.appendChild(tr);
  }
  table.appendChild(body);
  return table;
}

function renderStepper(trace: PanelTrace): HTMLElement {
  const box = el('div', { className: 'stepper', attrs: { id: 'stepper' } });
  const prev = el('button', { text: '◀ Previous', attrs: { id: 'prev', type: 'button' } });
  const next = el('button', { text: 'Next ▶', attrs: { id: 'next', type: 'button' } });
  prev.disabled = currentStep <= 0;
  next.disabled = currentStep >= trace.rows.length - 1;
  prev.addEventListener('click', () => goToStep(Math.max(0, currentStep - 1), trace));
  next.addEventListener('click', () => goToStep(Math.min(trace.rows.length - 1, currentStep + 1), trace));
  const row = trace.rows[currentStep];
  box.append(prev, el('span', { className: 'pos', text: ` step ${currentStep + 1} of ${trace.rows.length} ` }), next);
  if (row) {
    box.appendChild(
      el('p', {
        className: 'step-line',
        text: `${trace.lanes[row.lane] ?? ''}: ${row.action}${row.violation ? ` — breaks ${row.violation}` : ''}`,
        attrs: { id: 'step-line' },
      }),
    );
    box.appendChild(renderState(row, trace.lanes));
  }
  return box;
}

let status: { kind: 'running' | 'error'; text: string } | undefined;
/** The repair search of the shown function: running, its proposal, or why there is none. */
let repair: { running: boolean; view?: RepairPanelView; error?: string } | undefined;

const C_KEYWORDS = new Set([
  'if',
  'else',
  'return',
  'goto',
  'while',
  'for',
  'do',
  'switch',
  'case',
  'break',
  'continue',
  'struct',
  'static',
  'const',
  'int',
  'unsigned',
  'long',
  'void',
  'u32',
  'u64',
  'bool',
  'sizeof',
  'NULL',
]);

/** A diff line's C as spans (keywords, comments, strings), each set as text: the code is never parsed as HTML. */
function cSpans(code: string): Node[] {
  const out: Node[] = [];
  let i = 0;
  let plain = '';
  const flush = (): void => {
    if (plain) out.push(document.createTextNode(plain));
    plain = '';
  };
  while (i < code.length) {
    const c = code[i];
    if (c === '/' && (code[i + 1] === '*' || code[i + 1] === '/')) {
      flush();
      const end = code[i + 1] === '/' ? code.length : code.indexOf('*/', i + 2);
      const stop = end < 0 ? code.length : code[i + 1] === '/' ? end : end + 2;
      out.push(el('span', { className: 'c-comment', text: code.slice(i, stop) }));
      i = stop;
    } else if (c === '"') {
      flush();
      let j = i + 1;
      while (j < code.length && code[j] !== '"') j += code[j] === '\\' ? 2 : 1;
      out.push(el('span', { className: 'c-string', text: code.slice(i, j + 1) }));
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < code.length && /\w/.test(code[j])) j++;
      const word = code.slice(i, j);
      if (C_KEYWORDS.has(word)) {
        flush();
        out.push(el('span', { className: 'c-keyword', text: word }));
      } else plain += word;
      i = j;
    } else {
      plain += c;
      i++;
    }
  }
  flush();
  return out;
}

function renderDiff(v: RepairPanelView): HTMLElement {
  const pre = el('pre', { className: 'diff', attrs: { id: 'repair-diff' } });
  for (const line of v.diff) {
    const row = el('span', { className: `diff-line ${line.kind}`, attrs: { 'data-kind': line.kind } });
    if (line.kind === 'add' || line.kind === 'del' || line.kind === 'context') {
      row.appendChild(document.createTextNode(line.text.slice(0, 1)));
      for (const n of cSpans(line.text.slice(1))) row.appendChild(n);
    } else row.textContent = line.text;
    pre.append(row, document.createTextNode('\n'));
  }
  return pre;
}

function button(id: string, text: string, onClick: () => void): HTMLButtonElement {
  const b = el('button', { text, attrs: { id, type: 'button' } });
  b.addEventListener('click', onClick);
  return b;
}

/** "Find a verified order" and what it found: the step order, the invariants kept, the counts, the diff. */
function renderRepair(): HTMLElement {
  const box = el('section', { className: 'repair', attrs: { id: 'repair' } });
  if (!repair?.running)
    box.appendChild(
      button('find-repair', 'Find a verified order', () => {
        repair = { running: true };
        render();
        send({ type: 'findRepair' });
      }),
    );
  if (!repair) return box;
  if (repair.running) {
    box.append(
      el('p', {
        className: 'running',
        text: 'Searching an order that keeps every invariant…',
        attrs: { id: 'repair-status' },
      }),
      button('cancel-repair', 'Cancel', () => send({ type: 'cancelRepair' })),
    );
    return box;
  }
  if (repair.error) {
    box.appendChild(
      el('p', { className: 'error', text: `No verified order: ${repair.error}`, attrs: { id: 'repair-status' } }),
    );
    return box;
  }
  const v = repair.view;
  if (!v) return box;
  box.appendChild(
    el('h2', { text: v.headline, attrs: { id: 'repair-headline', 'data-verified': String(v.verified) } }),
  );
  if (v.shortfall && !v.verified)
    box.appendChild(el('p', { className: 'note', text: v.shortfall, attrs: { id: 'repair-shortfall' } }));
  if (v.edits.length) {
    box.appendChild(el('h3', { text: 'Edits' }));
    const ol = el('ol', { attrs: { id: 'repair-edits' } });
    for (const e of v.edits) ol.appendChild(el('li', { text: e }));
    box.appendChild(ol);
  }
  if (v.steps.length) {
    box.appendChild(el('h3', { text: 'The steps in the proposed order' }));
    const ol = el('ol', { attrs: { id: 'repair-steps' } });
    for (const st of v.steps)
      ol.appendChild(
        el('li', {
          text: `${st.action}${st.line ? ` (line ${st.line})` : ' (added)'}`,
          attrs: { 'data-line': st.line ? String(st.line) : 'added' },
        }),
      );
    box.appendChild(ol);
  }
  if (v.invariants.length) {
    box.appendChild(el('h3', { text: 'Invariants kept' }));
    const ul = el('ul', { className: 'verdicts', attrs: { id: 'repair-invariants' } });
    for (const inv of v.invariants)
      ul.appendChild(
        el('li', {
          className: inv.holds ? 'holds' : 'broken',
          text: `${inv.holds ? '✓' : '✗'} ${inv.id}`,
          attrs: { 'data-invariant': inv.id, 'data-holds': String(inv.holds) },
        }),
      );
    box.appendChild(ul);
  }
  if (v.stats)
    box.appendChild(el('p', { className: 'stats', text: `Verified over ${v.stats}.`, attrs: { id: 'repair-stats' } }));
  box.appendChild(el('p', { className: 'stats', text: v.search, attrs: { id: 'repair-search' } }));
  if (v.diff.length) box.appendChild(renderDiff(v));
  const actions = el('div', { className: 'row' });
  if (v.applicable)
    actions.appendChild(button('apply-repair', 'Apply to the source…', () => send({ type: 'applyRepair' })));
  if (v.reply) actions.appendChild(button('insert-repair', 'Insert into reply', () => send({ type: 'insertRepair' })));
  if (actions.childElementCount) box.appendChild(actions);
  return box;
}

function render(): void {
  app.replaceChildren();
  app.appendChild(renderHeader());
  const replaceFlow = !request?.finding || request.variant !== 'lock-model';
  if (replaceFlow && request?.variant !== 'none') app.appendChild(renderForm());
  if (status) app.appendChild(el('p', { className: status.kind, text: status.text, attrs: { id: 'status' } }));
  if (canRepair(request) && view) app.appendChild(renderRepair());
  if (!view) return;
  if (view.stats) app.appendChild(el('p', { className: 'stats', text: view.stats }));
  if (view.verdicts.length) app.appendChild(renderVerdicts(view));
  const trace =
    view.traces.find((t) => t.invariant === shownInvariant) ??
    view.traces.find((t) => t.invariant === view!.primary) ??
    view.traces[0];
  if (trace) {
    if (currentStep >= trace.rows.length) currentStep = 0;
    app.appendChild(
      el('h2', {
        text: `Counterexample: ${trace.invariant}`,
        attrs: { id: 'counterexample', 'data-invariant': trace.invariant },
      }),
    );
    app.appendChild(renderStepper(trace));
    app.appendChild(renderLanes(trace));
  } else if (view.kind !== 'none') {
    app.appendChild(
      el('p', { className: 'all-hold', text: 'Every invariant holds within the bounds.', attrs: { id: 'all-hold' } }),
    );
  }
}

window.addEventListener('message', (ev: MessageEvent<HostMessage>) => {
  const m = ev.data;
  if (!m || typeof m !== 'object') return;
  if (m.type === 'running') {
    // a new simulation: the proposal found for the last one no longer applies
    if (request !== undefined && JSON.stringify(request) !== JSON.stringify(m.request)) repair = undefined;
    request = m.request;
    status = { kind: 'running', text: 'Simulating…' };
  } else if (m.type === 'result') {
    request = m.request;
    view = m.view;
    status = undefined;
    shownInvariant = undefined;
    currentStep = 0;
  } else if (m.type === 'error') {
    status = { kind: 'error', text: `The simulation could not run: ${m.message}` };
  } else if (m.type === 'repairRunning') {
    repair = { running: true };
  } else if (m.type === 'repair') {
    repair = { running: false, view: m.repair };
  } else if (m.type === 'repairError') {
    repair = { running: false, error: m.message };
  }
  persist();
  render();
});

render();
send({ type: 'ready' });
