/**
 * The simulator panel's UI. Every string shown here may come from a patch or a
 * source file (actions, messages, function names): it is only ever set with
 * textContent, never parsed as HTML. The request is persisted with setState so
 * the panel comes back the same after being hidden or after a reload.
 */
import { laneLayout, primaryInvariant, stateSummary, type HostMessage, type PanelRequest, type PanelState, type UiMessage } from '../sim/panel-protocol';
import type { SimulationResult, TraceStep } from '../sim/types';

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
let result: SimulationResult | undefined;
let shownInvariant: string | undefined;
let currentStep = 0;

/** The last three segments of a path: enough to tell files apart in a narrow panel. */
function shortPath(file: string): string {
  const parts = file.split('/');
  return parts.length > 3 ? `…/${parts.slice(-3).join('/')}` : file;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { className?: string; text?: string; attrs?: Record<string, string> } = {}, ...children: Node[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.className) e.className = props.className;
  if (props.text !== undefined) e.textContent = props.text;
  for (const [k, v] of Object.entries(props.attrs ?? {})) e.setAttribute(k, v);
  for (const c of children) e.appendChild(c);
  return e;
}

function select(id: string, options: readonly string[], value: string, disabled: readonly string[] = []): HTMLSelectElement {
  const s = el('select', { attrs: { id } });
  for (const o of options) {
    const opt = el('option', { text: o, attrs: { value: o } });
    if (disabled.includes(o)) opt.disabled = true;
    s.appendChild(opt);
  }
  s.value = value;
  return s;
}

function checkboxes(name: string, options: readonly string[], checked: readonly string[], locked: readonly string[] = []): HTMLElement {
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
  const r = request ?? { variant: 'v8', threads: ['replacer', 'driver'], faults: ['add-access'], contract: 'status-quo' };
  const form = el('form', { className: 'controls', attrs: { id: 'controls' } });
  const fromSourceOk = Boolean(r.function);
  form.append(
    el('label', { text: 'Variant ' }, select('variant', VARIANTS, r.variant, fromSourceOk ? [] : ['from-source'])),
    el('label', { text: 'Contract ' }, select('contract', CONTRACTS, r.contract)),
    el('div', { className: 'row' }, el('span', { text: 'Threads: ' }), checkboxes('threads', THREADS, r.threads, ['replacer'])),
    el('div', { className: 'row' }, el('span', { text: 'Faults: ' }), checkboxes('faults', FAULTS, r.faults)),
    el('button', { text: 'Run', attrs: { type: 'submit', id: 'run' } }),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const next: PanelRequest = {
      ...r,
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

function renderHeader(): HTMLElement {
  const h = el('header', {});
  const r = request;
  h.appendChild(el('h1', { text: r?.variant === 'from-source' && r.function ? `Replace flow: ${r.function}() from source` : `Replace flow: ${r?.variant ?? ''}` }));
  if (r?.finding) {
    const f = r.finding;
    const p = el('p', { className: 'finding', attrs: { id: 'finding' } });
    p.appendChild(el('strong', { text: `${f.ruleId}: ` }));
    p.appendChild(document.createTextNode(f.message));
    const link = el('a', { text: ` (${shortPath(f.file)}:${f.line})`, attrs: { href: '#', class: 'source-link', title: f.file } });
    link.addEventListener('click', (ev) => {
      ev.preventDefault();
      send({ type: 'openSource', file: f.file, line: f.line });
    });
    p.appendChild(link);
    h.appendChild(p);
  }
  return h;
}

function renderVerdicts(res: SimulationResult): HTMLElement {
  const list = el('ul', { className: 'verdicts', attrs: { id: 'verdicts' } });
  for (const inv of res.invariants) {
    const li = el('li', { className: inv.holds ? 'holds' : 'broken', attrs: { 'data-invariant': inv.id, 'data-holds': String(inv.holds) } });
    li.appendChild(el('span', { className: 'mark', text: inv.holds ? '✓' : '✗' }));
    li.appendChild(el('span', { className: 'inv', text: ` ${inv.id}` }));
    if (inv.counterexample) {
      li.appendChild(el('span', { className: 'msg', text: ` — ${inv.counterexample.message} (${inv.counterexample.steps.length} steps)` }));
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

function renderLanes(res: SimulationResult, steps: readonly TraceStep[]): HTMLElement {
  const layout = laneLayout(res.threads, steps);
  const table = el('table', { className: 'lanes', attrs: { id: 'lanes' } });
  const head = el('tr', {}, el('th', { text: '#' }));
  for (const t of layout.threads) head.appendChild(el('th', { text: t, attrs: { 'data-lane': t } }));
  head.appendChild(el('th', { text: 'state after the step' }));
  table.appendChild(el('thead', {}, head));
  const body = el('tbody', {});
  for (const row of layout.rows) {
    const tr = el('tr', { className: `step${row.index === currentStep ? ' current' : ''}${row.step.violation ? ' violation' : ''}`, attrs: { 'data-step': String(row.index), 'data-thread': row.step.thread } });
    tr.appendChild(el('td', { className: 'n', text: String(row.index + 1) }));
    layout.threads.forEach((_, lane) => {
      const td = el('td', { className: lane === row.lane ? 'action' : 'idle' });
      if (lane === row.lane) {
        td.appendChild(el('code', { text: row.step.action }));
        if (row.step.line !== undefined) td.appendChild(el('span', { className: 'where', text: ` ${row.step.file?.split('/').pop() ?? ''}:${row.step.line}` }));
      }
      tr.appendChild(td);
    });
    tr.appendChild(el('td', { className: 'state', text: stateSummary(row.step.state) }));
    tr.addEventListener('click', () => {
      currentStep = row.index;
      if (row.step.file && row.step.line !== undefined) send({ type: 'openSource', file: row.step.file, line: row.step.line });
      render();
    });
    body.appendChild(tr);
  }
  table.appendChild(body);
  return table;
}

function renderStepper(steps: readonly TraceStep[]): HTMLElement {
  const box = el('div', { className: 'stepper', attrs: { id: 'stepper' } });
  const prev = el('button', { text: '◀ Previous', attrs: { id: 'prev', type: 'button' } });
  const next = el('button', { text: 'Next ▶', attrs: { id: 'next', type: 'button' } });
  prev.disabled = currentStep <= 0;
  next.disabled = currentStep >= steps.length - 1;
  prev.addEventListener('click', () => {
    currentStep = Math.max(0, currentStep - 1);
    render();
  });
  next.addEventListener('click', () => {
    currentStep = Math.min(steps.length - 1, currentStep + 1);
    render();
  });
  const s = steps[currentStep];
  box.append(prev, el('span', { className: 'pos', text: ` step ${currentStep + 1} of ${steps.length} ` }), next);
  if (s) {
    const detail = el('pre', { className: 'state-detail', attrs: { id: 'state-detail' } });
    detail.textContent = `${s.thread}: ${s.action}${s.violation ? `\n  breaks ${s.violation}` : ''}\n${JSON.stringify(s.state, null, 2)}`;
    box.appendChild(detail);
  }
  return box;
}

let status: { kind: 'running' | 'error'; text: string } | undefined;

function render(): void {
  app.replaceChildren();
  app.appendChild(renderHeader());
  app.appendChild(renderForm());
  if (status) app.appendChild(el('p', { className: status.kind, text: status.text, attrs: { id: 'status' } }));
  if (!result) return;
  app.appendChild(el('p', { className: 'stats', text: `${result.states} states, ${result.transitions} transitions, ${result.elapsedMs} ms${result.complete ? ', exhaustive' : ', stopped at the state bound'}` }));
  app.appendChild(renderVerdicts(result));
  const inv = result.invariants.find((i) => i.id === shownInvariant && !i.holds) ?? result.invariants.find((i) => i.id === primaryInvariant(result!, request?.invariant));
  if (inv?.counterexample) {
    const steps = inv.counterexample.steps;
    if (currentStep >= steps.length) currentStep = 0;
    app.appendChild(el('h2', { text: `Shortest counterexample: ${inv.id}`, attrs: { id: 'counterexample', 'data-invariant': inv.id } }));
    app.appendChild(renderStepper(steps));
    app.appendChild(renderLanes(result, steps));
  } else {
    app.appendChild(el('p', { className: 'all-hold', text: 'Every invariant holds within the bounds.', attrs: { id: 'all-hold' } }));
  }
}

window.addEventListener('message', (ev: MessageEvent<HostMessage>) => {
  const m = ev.data;
  if (!m || typeof m !== 'object') return;
  if (m.type === 'running') {
    request = m.request;
    status = { kind: 'running', text: 'Simulating…' };
  } else if (m.type === 'result') {
    request = m.request;
    result = m.result;
    status = undefined;
    shownInvariant = undefined;
    currentStep = 0;
  } else if (m.type === 'error') {
    status = { kind: 'error', text: `The simulation could not run: ${m.message}` };
  }
  persist();
  render();
});

render();
send({ type: 'ready' });
