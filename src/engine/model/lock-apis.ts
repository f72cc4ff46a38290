/**
 * The kernel locking APIs the model understands, by name: what each call
 * does to which argument. Guard classes (`guard(mutex)`, `scoped_guard(rwsem_read, ...)`)
 * are listed separately because the class name, not the call, says the kind.
 */
import type { LockKind, LockMode } from './types';

export interface LockApi {
  action: 'acquire' | 'release' | 'assert';
  kind: LockKind;
  mode: LockMode;
  /** Held only when it returns non-zero (mutex_trylock, down_read_trylock, spin_trylock). */
  trylock?: boolean;
  /** Held only when it returns zero (mutex_lock_interruptible/killable, down_read_killable). */
  onZero?: boolean;
  /** lockdep's sanctioned same-class nesting (_nested, _nest_lock). */
  nested?: boolean;
  expect?: 'held' | 'read' | 'write' | 'not-held';
}

const table = new Map<string, LockApi>();

function add(names: string[], api: LockApi): void {
  for (const n of names) table.set(n, api);
}

// Mutexes.
add(['mutex_lock', 'mutex_lock_io'], { action: 'acquire', kind: 'mutex', mode: 'exclusive' });
add(['mutex_lock_nested', 'mutex_lock_io_nested', 'mutex_lock_nest_lock'], {
  action: 'acquire',
  kind: 'mutex',
  mode: 'exclusive',
  nested: true,
});
add(['mutex_lock_interruptible', 'mutex_lock_killable'], {
  action: 'acquire',
  kind: 'mutex',
  mode: 'exclusive',
  onZero: true,
});
add(['mutex_lock_interruptible_nested', 'mutex_lock_killable_nested', 'mutex_lock_killable_nest_lock'], {
  action: 'acquire',
  kind: 'mutex',
  mode: 'exclusive',
  onZero: true,
  nested: true,
});
add(['mutex_trylock'], { action: 'acquire', kind: 'mutex', mode: 'exclusive', trylock: true });
add(['mutex_unlock'], { action: 'release', kind: 'mutex', mode: 'exclusive' });

// Read-write semaphores.
add(['down_read'], { action: 'acquire', kind: 'rwsem', mode: 'read' });
add(['down_read_nested', 'down_read_non_owner'], { action: 'acquire', kind: 'rwsem', mode: 'read', nested: true });
add(['down_read_killable', 'down_read_interruptible'], {
  action: 'acquire',
  kind: 'rwsem',
  mode: 'read',
  onZero: true,
});
add(['down_read_trylock'], { action: 'acquire', kind: 'rwsem', mode: 'read', trylock: true });
add(['up_read', 'up_read_non_owner'], { action: 'release', kind: 'rwsem', mode: 'read' });
add(['down_write'], { action: 'acquire', kind: 'rwsem', mode: 'write' });
add(['down_write_nested', 'down_write_nest_lock'], { action: 'acquire', kind: 'rwsem', mode: 'write', nested: true });
add(['down_write_killable'], { action: 'acquire', kind: 'rwsem', mode: 'write', onZero: true });
add(['down_write_trylock'], { action: 'acquire', kind: 'rwsem', mode: 'write', trylock: true });
add(['up_write'], { action: 'release', kind: 'rwsem', mode: 'write' });

// Spinlocks (and raw ones, which lockdep treats the same for ordering).
for (const p of ['spin', 'raw_spin']) {
  add([`${p}_lock`, `${p}_lock_irq`, `${p}_lock_irqsave`, `${p}_lock_bh`], {
    action: 'acquire',
    kind: 'spinlock',
    mode: 'exclusive',
  });
  add([`${p}_lock_nested`, `${p}_lock_irqsave_nested`, `${p}_lock_nest_lock`], {
    action: 'acquire',
    kind: 'spinlock',
    mode: 'exclusive',
    nested: true,
  });
  add([`${p}_trylock`, `${p}_trylock_irq`, `${p}_trylock_irqsave`, `${p}_trylock_bh`], {
    action: 'acquire',
    kind: 'spinlock',
    mode: 'exclusive',
    trylock: true,
  });
  add([`${p}_unlock`, `${p}_unlock_irq`, `${p}_unlock_irqrestore`, `${p}_unlock_bh`], {
    action: 'release',
    kind: 'spinlock',
    mode: 'exclusive',
  });
}
// rwlock_t: its read side is recursive, like an rwsem read for ordering purposes.
add(['read_lock', 'read_lock_irq', 'read_lock_irqsave', 'read_lock_bh'], {
  action: 'acquire',
  kind: 'spinlock',
  mode: 'read',
});
add(['write_lock', 'write_lock_irq', 'write_lock_irqsave', 'write_lock_bh'], {
  action: 'acquire',
  kind: 'spinlock',
  mode: 'write',
});
add(['read_unlock', 'read_unlock_irq', 'read_unlock_irqrestore', 'read_unlock_bh'], {
  action: 'release',
  kind: 'spinlock',
  mode: 'read',
});
add(['write_unlock', 'write_unlock_irq', 'write_unlock_irqrestore', 'write_unlock_bh'], {
  action: 'release',
  kind: 'spinlock',
  mode: 'write',
});

// The xarray's internal spinlock.
add(['xa_lock', 'xa_lock_irq', 'xa_lock_irqsave', 'xa_lock_bh'], {
  action: 'acquire',
  kind: 'xa_lock',
  mode: 'exclusive',
});
add(['xa_unlock', 'xa_unlock_irq', 'xa_unlock_irqrestore', 'xa_unlock_bh'], {
  action: 'release',
  kind: 'xa_lock',
  mode: 'exclusive',
});

// lockdep assertions.
add(['lockdep_assert_held', 'lockdep_assert_held_once'], {
  action: 'assert',
  kind: 'unknown',
  mode: 'exclusive',
  expect: 'held',
});
add(['lockdep_assert_held_read'], { action: 'assert', kind: 'unknown', mode: 'read', expect: 'read' });
add(['lockdep_assert_held_write'], { action: 'assert', kind: 'unknown', mode: 'write', expect: 'write' });
add(['lockdep_assert_not_held'], { action: 'assert', kind: 'unknown', mode: 'exclusive', expect: 'not-held' });

export function lockApi(name: string): LockApi | undefined {
  return table.get(name);
}

/** `guard(CLASS)` / `scoped_guard(CLASS, ...)` classes that are locks we track. */
const guardClasses: Record<string, { kind: LockKind; mode: LockMode }> = {
  mutex: { kind: 'mutex', mode: 'exclusive' },
  mutex_intr: { kind: 'mutex', mode: 'exclusive' },
  rwsem_read: { kind: 'rwsem', mode: 'read' },
  rwsem_read_intr: { kind: 'rwsem', mode: 'read' },
  rwsem_read_try: { kind: 'rwsem', mode: 'read' },
  rwsem_write: { kind: 'rwsem', mode: 'write' },
  rwsem_write_try: { kind: 'rwsem', mode: 'write' },
  spinlock: { kind: 'spinlock', mode: 'exclusive' },
  spinlock_irq: { kind: 'spinlock', mode: 'exclusive' },
  spinlock_irqsave: { kind: 'spinlock', mode: 'exclusive' },
  spinlock_bh: { kind: 'spinlock', mode: 'exclusive' },
  raw_spinlock: { kind: 'spinlock', mode: 'exclusive' },
  raw_spinlock_irq: { kind: 'spinlock', mode: 'exclusive' },
  raw_spinlock_irqsave: { kind: 'spinlock', mode: 'exclusive' },
  read_lock: { kind: 'spinlock', mode: 'read' },
  write_lock: { kind: 'spinlock', mode: 'write' },
  xa_lock: { kind: 'xa_lock', mode: 'exclusive' },
};

export function guardClass(name: string): { kind: LockKind; mode: LockMode } | undefined {
  return guardClasses[name];
}

/**
 * Calls that only wrap or test another value: transparent to the model, so
 * `rc = xa_err(xa_store(...))` ties `rc` to `xa_store()` and `IS_ERR(p)` tests `p`.
 */
export const TRANSPARENT_CALLS = new Set([
  'IS_ERR',
  'IS_ERR_OR_NULL',
  'PTR_ERR',
  'PTR_ERR_OR_ZERO',
  'ERR_PTR',
  'ERR_CAST',
  'xa_err',
  'WARN_ON',
  'WARN_ON_ONCE',
  'unlikely',
  'likely',
  'READ_ONCE',
  'WRITE_ONCE',
  'WARN',
  'WARN_ONCE',
  'BUG_ON',
  'sizeof',
  'offsetof',
]);

/** Iterator macros: `list_for_each_entry(...) {` and friends. Any other macro followed by a block is treated the same. */
export function isScopedGuardMacro(name: string): boolean {
  return name === 'scoped_guard' || name === 'scoped_cond_guard';
}

/**
 * Calls that give a lock its lockdep class: every init site (and every
 * `lockdep_set_class*()` call) is a class of its own.
 */
export const LOCK_CLASS_SITES: ReadonlyMap<string, LockKind> = new Map<string, LockKind>([
  ['spin_lock_init', 'spinlock'],
  ['raw_spin_lock_init', 'spinlock'],
  ['rwlock_init', 'spinlock'],
  ['mutex_init', 'mutex'],
  ['__mutex_init', 'mutex'],
  ['init_rwsem', 'rwsem'],
  ['__init_rwsem', 'rwsem'],
  ['lockdep_set_class', 'unknown'],
  ['lockdep_set_class_and_name', 'unknown'],
  ['lockdep_set_class_and_subclass', 'unknown'],
]);
