/**
 * `--emit promela`: the same model for Spin. One proctype per thread, one
 * `atomic { guard -> effect; goto next }` per instruction, so Spin interleaves
 * at the same points as the explorer. A failing invariant is an
 * `assert(<invariant>)` on a bit that is always 0, so pan's message names it;
 * a deadlock is pan's "invalid end state". Independent of semantics.ts on
 * purpose: the cross-check compares two encodings of the protocol.
 */
import { RC } from './program';
import type { Instr, ThreadProgram } from './program';
import type { InvariantId, SimContract } from './types';

/** The Promela bit each invariant's assertions name (pan prints the expression). */
export const PROMELA_INVARIANT: Record<Exclude<InvariantId, 'no-deadlock'>, string> = {
  'failure-contract': 'failure_contract',
  'pin-attached': 'pin_attached',
  'no-use-after-free': 'no_use_after_free',
  'list-id-consistent': 'list_id_consistent',
};

const comment = (s: string): string => s.replace(/\*\//g, '* /');
const procName = (thread: string): string => thread.replace(/-/g, '_');

function violate(inv: Exclude<InvariantId, 'no-deadlock'>): string {
  return `assert(${PROMELA_INVARIANT[inv]})`;
}

/** `if the IOAS x is used while destroyed: violate` */
function uaf(x: string): string {
  return `if :: (${x} != 0 && alive[${x}] == 0) -> ${violate('no-use-after-free')} :: else -> skip fi`;
}

function contractCheck(contract: SimContract): string {
  if (contract === 'usable') {
    return `if :: (rc != 0 && snap == 1 && s_ioas != 0 && (ioas == 0 || alive[ioas] == 0 || slot[ioas] == 0 || unpin != ioas)) -> ${violate('failure-contract')} :: else -> skip fi`;
  }
  const differs = [
    'dropped != 0',
    'ioas != s_ioas',
    'unpin != s_unpin',
    'lid != s_lid',
    'slot[1] != s_slot[1]',
    'slot[2] != s_slot[2]',
    'refs[1] != s_refs[1]',
    'refs[2] != s_refs[2]',
    '(s_slot[1] != 0 && alive[1] == 0)',
    '(s_slot[2] != 0 && alive[2] == 0)',
  ].join(' || ');
  return `if :: (rc != 0 && snap == 1 && (${differs})) -> ${violate('failure-contract')} :: else -> skip fi`;
}

/** One instruction as `guard` and `body`; `L(n)` names instruction n's label. */
function instr(
  i: Instr,
  pc: number,
  me: number,
  isReplacer: boolean,
  contract: SimContract,
  L: (n: number) => string,
): { guard: string; body: string } {
  const next = `goto ${L(pc + 1)}`;
  const tgt = (t: 'new' | 'cur'): string => (t === 'new' ? '2' : 'cur');
  const lockVar = (l: string): string => (l === 'ioas_lock' ? 'l_ioas' : 'l_drv');
  switch (i.k) {
    case 'lock':
      return { guard: `${lockVar(i.lock)} == 0`, body: `${lockVar(i.lock)} = ${me}; ${next}` };
    case 'unlock':
      return {
        guard: 'true',
        body: `if :: ${lockVar(i.lock)} == ${me} -> ${lockVar(i.lock)} = 0 :: else -> skip fi; ${next}`,
      };
    case 'wlock':
      return { guard: 'iova_w == 0', body: `iova_w = ${me}; ${next}` };
    case 'wunlock':
      return { guard: 'true', body: `if :: iova_w == ${me} -> iova_w = 0 :: else -> skip fi; ${next}` };
    case 'check-attached':
      return {
        guard: 'true',
        body: `snap = 1; s_ioas = ioas; s_unpin = unpin; s_lid = lid; s_slot[1] = slot[1]; s_slot[2] = slot[2]; s_refs[1] = refs[1]; s_refs[2] = refs[2]; if :: ioas == 0 -> rc = ${RC.enoent}; goto ${L(i.fail)} :: else -> ${next} fi`,
      };
    case 'lookup':
      return {
        guard: 'true',
        body: i.fault ? `if :: true -> rc = ${RC.enoent}; goto ${L(i.fail)} :: true -> ${next} fi` : next,
      };
    case 'save-cur':
      return { guard: 'true', body: `cur = ioas; ${next}` };
    case 'save-id':
      return { guard: 'true', body: `sid = lid; ${next}` };
    case 'busy-check':
      return { guard: 'true', body: `if :: cur != unpin -> rc = ${RC.ebusy}; goto ${L(i.fail)} :: else -> ${next} fi` };
    case 'same-check':
      return { guard: 'true', body: `if :: cur == 2 -> goto ${L(i.done)} :: else -> ${next} fi` };
    case 'clear-ioas':
      return { guard: 'true', body: `ioas = 0; ${next}` };
    case 'add-access': {
      const x = tgt(i.target);
      const ok = `slot[${x}] = ${x}; lid = ${x}; ${next}`;
      const fail = `${i.rcOnFail ? `rc = ${i.rcOnFail}; ` : ''}goto ${L(i.fail)}`;
      return {
        guard: `(${x} != 1 || iova_w == 0)`,
        body: `${uaf(x)}; ${i.fault ? `if :: true -> ${fail} :: true -> ${ok} fi` : ok}`,
      };
    }
    case 'get-ref': {
      const x = tgt(i.target);
      return { guard: 'true', body: `${uaf(x)}; if :: ${x} != 0 -> refs[${x}]++ :: else -> skip fi; ${next}` };
    }
    case 'put-ref': {
      const x = tgt(i.target);
      return {
        guard: 'true',
        body: `${uaf(x)}; if :: (${x} != 0 && refs[${x}] > 0) -> refs[${x}]-- :: else -> skip fi; ${next}`,
      };
    }
    case 'remove-access': {
      const id = i.listId === 'saved' ? 'sid' : 'lid';
      return {
        guard: '(cur != 1 || iova_w == 0)',
        body: `if :: cur != 0 -> ${uaf('cur')}; if :: (slot[cur] != 0 && slot[cur] == ${id}) -> slot[cur] = 0 :: else -> ${violate('list-id-consistent')} fi :: else -> skip fi; ${next}`,
      };
    }
    case 'set-ioas':
      if (i.target === 'null') return { guard: 'true', body: `ioas = 0; unpin = 0; lid = 0; ${next}` };
      return { guard: 'true', body: `ioas = ${tgt(i.target)}; unpin = ${tgt(i.target)}; ${next}` };
    case 'restore-ioas':
      return { guard: 'true', body: `ioas = cur; ${next}` };
    case 'read-id':
      return {
        guard: 'true',
        body: `if :: (cur != 0 && alive[cur] == 0) -> ${violate('no-use-after-free')}; goto ${L(i.fail)} :: cur == 0 -> goto ${L(i.fail)} :: else -> ${next} fi`,
      };
    case 'return':
      return { guard: 'true', body: `${i.error ? '' : 'rc = 0; '}goto ${L(i.exit)}` };
    case 'exit':
      return {
        guard: 'true',
        body: `${contractCheck(contract)}; if :: l_ioas == ${me} -> l_ioas = 0 :: else -> skip fi; goto ${L(-1)}`,
      };
    case 'skip-if-no-pins':
      return { guard: 'true', body: `if :: pins[1] + pins[2] == 0 -> goto ${L(i.to)} :: else -> ${next} fi` };
    case 'unpin-all':
      return {
        guard: '(unpin == 0 || pins[unpin] == 0 || unpin != 1 || iova_w == 0)',
        body: `if :: (unpin != 0 && pins[unpin] != 0) -> ${uaf('unpin')}; pins[unpin] = 0${isReplacer ? '; dropped = 1' : ''} :: else -> skip fi; ${next}`,
      };
    case 'pin':
      return {
        guard: '(ioas == 0 || ioas != 1 || iova_w == 0)',
        body: `if :: ioas == 0 -> rc = ${RC.enoent}; goto ${L(i.fail)} :: else -> ${uaf('ioas')}; if :: slot[ioas] == 0 -> ${violate('pin-attached')} :: else -> skip fi; pins[ioas]++; ${next} fi`,
      };
    case 'unpin-one':
      return {
        guard: '(unpin == 0 || pins[unpin] == 0 || unpin != 1 || iova_w == 0)',
        body: `if :: (unpin != 0 && pins[unpin] != 0) -> ${uaf('unpin')}; pins[unpin]-- :: else -> skip fi; ${next}`,
      };
    case 'uref-get':
      return { guard: 'true', body: `if :: alive[1] == 0 -> goto ${L(i.fail)} :: else -> uref = 1; ${next} fi` };
    case 'uref-put':
      return { guard: 'true', body: `uref = 0; ${next}` };
    case 'skip-if-unpinned':
      return { guard: 'true', body: `if :: pins[1] == 0 -> goto ${L(i.to)} :: else -> ${next} fi` };
    case 'notify':
      return { guard: 'true', body: `if :: slot[1] == 0 -> goto ${L(i.to)} :: else -> ${next} fi` };
    case 'detach-check':
      return {
        guard: 'true',
        body: `if :: (ioas == 0 || ioas != unpin) -> goto ${L(i.fail)} :: else -> cur = ioas; sid = lid; ${next} fi`,
      };
    case 'destroy':
      return { guard: 'true', body: `if :: (refs[1] == 0 && uref == 0) -> alive[1] = 0 :: else -> skip fi; ${next}` };
  }
}

function proctype(p: ThreadProgram, t: number, contract: SimContract): string {
  const n = p.instrs.length;
  // the label after the last instruction is an end label: a thread that got there is done
  const L = (k: number): string => (k < 0 || k >= n ? 'end_done' : `L${k}`);
  const lines = [`proctype ${procName(p.thread)}() {`, '  byte rc, cur, sid;'];
  p.instrs.forEach((i, pc) => {
    const { guard, body } = instr(i, pc, t + 1, p.thread === 'replacer', contract, L);
    const where = i.line ? ` (${i.file ?? ''}:${i.line})` : '';
    lines.push(`  /* ${comment(i.action)}${comment(where)} */`);
    lines.push(`L${pc}: atomic { ${guard} -> ${body} };`);
  });
  lines.push('end_done: skip', '}');
  return lines.join('\n');
}

/** The whole model: globals, the initial state, one proctype per thread. */
export function emitPromela(programs: ThreadProgram[], contract: SimContract, title = 'replace flow'): string {
  const bits = Object.values(PROMELA_INVARIANT)
    .map((b) => `bit ${b}; /* always 0: assert(${b}) marks a breach of that invariant */`)
    .join('\n');
  return [
    `/* iommufd-review simulator model: ${comment(title)}; failure contract: ${contract}.`,
    '   IOAS 1 is A (old), 2 is B (new), 0 is NULL. Lock holders are thread numbers. */',
    '',
    'byte ioas, unpin, lid;      /* access->ioas, access->ioas_unpin, access->iopt_access_list_id */',
    'byte slot[3], refs[3], alive[3], pins[3];',
    "byte l_ioas, l_drv, iova_w; /* ioas_lock, the driver lock, A's iova_rwsem writer */",
    'byte uref, dropped;',
    'byte snap, s_ioas, s_unpin, s_lid;',
    'byte s_slot[3], s_refs[3];',
    bits,
    '',
    ...programs.map((p, t) => proctype(p, t, contract) + '\n'),
    'init {',
    '  atomic {',
    '    ioas = 1; unpin = 1; lid = 1; slot[1] = 1; refs[1] = 1; alive[1] = 1; alive[2] = 1; pins[1] = 1;',
    ...programs.map((p) => `    run ${procName(p.thread)}();`),
    '  }',
    '}',
    '',
  ].join('\n');
}
