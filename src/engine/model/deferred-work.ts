/**
 * Work run inline instead of deferred: `if (polling) handler(&x->work); else
 * queue_work(wq, &x->work);`. The direct call runs the handler under the
 * caller's locks, but only in the mode the condition names (panic-time
 * polling, a synchronous flush); the usual route hands the same work to a
 * deferral API, which runs it later in another context without them. A lock
 * reached only through such a call is a mode-dependent route, not the
 * function's ordinary behaviour, and the rules say so.
 */
import { withoutSpaces } from './syntax-util';
import type { CallEvent } from './types';

/**
 * APIs that hand a work item to run later in another context (workqueues,
 * kthread workers, tasklets, irq_work, RCU callbacks, timers): which argument
 * is the item, and which names the function to run when the API takes one.
 */
const DEFERRAL_APIS: ReadonlyMap<string, { item: number; fn?: number }> = new Map([
  ['queue_work', { item: 1 }],
  ['queue_work_on', { item: 2 }],
  ['queue_work_node', { item: 2 }],
  ['queue_delayed_work', { item: 1 }],
  ['queue_delayed_work_on', { item: 2 }],
  ['mod_delayed_work', { item: 1 }],
  ['mod_delayed_work_on', { item: 2 }],
  ['queue_rcu_work', { item: 1 }],
  ['schedule_work', { item: 0 }],
  ['schedule_work_on', { item: 1 }],
  ['schedule_delayed_work', { item: 0 }],
  ['schedule_delayed_work_on', { item: 1 }],
  ['kthread_queue_work', { item: 1 }],
  ['kthread_queue_delayed_work', { item: 1 }],
  ['kthread_mod_delayed_work', { item: 1 }],
  ['tasklet_schedule', { item: 0 }],
  ['tasklet_hi_schedule', { item: 0 }],
  ['irq_work_queue', { item: 0 }],
  ['irq_work_queue_on', { item: 0 }],
  ['call_rcu', { item: 0, fn: 1 }],
  ['call_rcu_hurry', { item: 0, fn: 1 }],
  ['call_srcu', { item: 1, fn: 2 }],
  ['mod_timer', { item: 0 }],
  ['add_timer', { item: 0 }],
]);

/**
 * The deferral machinery's other calls take the same item without running
 * it (`del_timer(&t)` beside `mod_timer(&t, ...)`, `cancel_delayed_work()`,
 * `flush_work()`, `INIT_WORK()`): only a call outside these runs the work.
 */
const MANAGES_WORK =
  /^(?:cancel_|flush_|drain_workqueue$|del_timer|try_to_del_timer|timer_|tasklet_|irq_work_|kthread_|INIT_|init_|__init_|destroy_|work_|delayed_work_|rcu_barrier|srcu_barrier|synchronize_)/;

/**
 * Does `call` run what `deferral` hands off? The same item passed to both
 * (`&intf->recv_work`), or a member of it (a delayed work's `&x->dwork.work`
 * beside `&x->dwork`), or the deferred function called by name
 * (`call_rcu(&obj->rcu, free_obj)` beside `free_obj(&obj->rcu)`).
 */
function runsDeferred(call: CallEvent, deferral: CallEvent): boolean {
  const api = DEFERRAL_APIS.get(deferral.callee)!;
  if (api.fn !== undefined && withoutSpaces(deferral.args[api.fn] ?? '') === call.callee) return true;
  const item = withoutSpaces(deferral.args[api.item] ?? '');
  if (item.length === 0) return false;
  return call.args.some((a) => {
    const own = withoutSpaces(a);
    return own === item || own.startsWith(`${item}.`);
  });
}

/**
 * Marks each call of one branch of an `if`/`else` that runs work the other
 * branch defers (`inlineOf`: the deferral's API and line). `log` holds the
 * function's call events as emitted: the then-branch's (nested statements
 * included) from `thenStart`, the else-branch's from `elseStart` to the end.
 */
export function markInlineRuns(log: readonly CallEvent[], thenStart: number, elseStart: number): void {
  const end = log.length;
  if (thenStart >= elseStart || elseStart >= end) return;
  const pair = (from: number, to: number, otherFrom: number, otherTo: number): void => {
    let deferrals: CallEvent[] | undefined;
    for (let i = otherFrom; i < otherTo; i++) if (DEFERRAL_APIS.has(log[i].callee)) (deferrals ??= []).push(log[i]);
    if (!deferrals) return;
    for (let i = from; i < to; i++) {
      const c = log[i];
      if (DEFERRAL_APIS.has(c.callee) || MANAGES_WORK.test(c.callee) || c.inlineOf) continue;
      const d = deferrals.find((x) => runsDeferred(c, x));
      if (d) c.inlineOf = { api: d.callee, line: d.line };
    }
  };
  pair(thenStart, elseStart, elseStart, end);
  pair(elseStart, end, thenStart, elseStart);
}
