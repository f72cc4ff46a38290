/**
 * `.iommufd-review.json`: parsing with shape validation (a bad key is named
 * with its path, so the user can fix it) and merging over the defaults.
 * Browser-safe: the caller reads the file; this only sees its text.
 */
import type { LockKind, LockMode } from '../model/types';
import { RULE_IDS } from '../types';
import type { CallbackKnowledge, FunctionKnowledge, Knowledge, LockTake, ReviewConfig } from './types';

const LOCK_KINDS: readonly LockKind[] = ['mutex', 'rwsem', 'spinlock', 'xa_lock', 'unknown'];
const LOCK_MODES: readonly LockMode[] = ['exclusive', 'read', 'write'];
const CONFIDENCES = ['low', 'medium', 'high'] as const;
const TOP_KEYS = [
  'functions',
  'callbacks',
  'structs',
  'lockKinds',
  'documentedOrders',
  'protectedBy',
  'disabledRules',
  'minConfidence',
] as const;
const FUNCTION_KEYS = [
  'takes',
  'fallible',
  'irreversible',
  'restoring',
  'outsideLockOrder',
  'reaches',
  'requires',
  'writes',
  'implicitReads',
  'outParams',
  'releasedBy',
  'iterator',
  'publishes',
  'finishes',
] as const;
const CALLBACK_KEYS = ['takes', 'calledWith', 'reaches', 'irreversible'] as const;
/** `struct.field`: the class id shape every lock and protected field uses. */
const CLASS_ID = /^[A-Za-z_]\w*\.[A-Za-z_]\w*$/;

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kindOf(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

/** Collects problems as `source: key.path: what is wrong`. */
class Validator {
  readonly problems: string[] = [];
  constructor(private readonly source: string) {}

  problem(at: string, message: string): void {
    this.problems.push(`${this.source}: ${at}: ${message}`);
  }

  object(v: Json, at: string): v is Record<string, Json> {
    if (isObject(v)) return true;
    this.problem(at, `expected an object, got ${kindOf(v)}`);
    return false;
  }

  stringArray(v: Json, at: string): string[] | undefined {
    if (!Array.isArray(v)) {
      this.problem(at, `expected an array of strings, got ${kindOf(v)}`);
      return undefined;
    }
    const out: string[] = [];
    v.forEach((item, i) => {
      if (typeof item === 'string') out.push(item);
      else this.problem(`${at}[${i}]`, `expected a string, got ${kindOf(item)}`);
    });
    return out.length === v.length ? out : undefined;
  }

  classId(v: Json, at: string): string | undefined {
    if (typeof v !== 'string') {
      this.problem(at, `expected a lock class "struct.field", got ${kindOf(v)}`);
      return undefined;
    }
    if (!CLASS_ID.test(v)) {
      this.problem(at, `"${v}" is not of the form "struct.field" (e.g. "iommufd_access.ioas_lock")`);
      return undefined;
    }
    return v;
  }

  unknownKeys(obj: Record<string, Json>, allowed: readonly string[], at: string): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key))
        this.problem(at ? `${at}.${key}` : key, `unknown key (allowed: ${allowed.join(', ')})`);
    }
  }

  lockTakes(v: Json, at: string): LockTake[] | undefined {
    if (!Array.isArray(v)) {
      this.problem(
        at,
        `expected an array of {"lock": "struct.field", "mode": "exclusive|read|write"}, got ${kindOf(v)}`,
      );
      return undefined;
    }
    const out: LockTake[] = [];
    let ok = true;
    v.forEach((item, i) => {
      const here = `${at}[${i}]`;
      // A bare string is accepted as an exclusive take: the common case for mutexes.
      if (typeof item === 'string') {
        const lock = this.classId(item, here);
        if (lock) out.push({ lock, mode: 'exclusive' });
        else ok = false;
        return;
      }
      if (!this.object(item, here)) {
        ok = false;
        return;
      }
      this.unknownKeys(item, ['lock', 'mode'], here);
      const lock = this.classId(item.lock, `${here}.lock`);
      const mode = item.mode === undefined ? 'exclusive' : item.mode;
      if (typeof mode !== 'string' || !LOCK_MODES.includes(mode as LockMode)) {
        this.problem(`${here}.mode`, `expected one of ${LOCK_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
        ok = false;
        return;
      }
      if (!lock) {
        ok = false;
        return;
      }
      out.push({ lock, mode: mode as LockMode });
    });
    return ok ? out : undefined;
  }

  functionEntry(v: Json, at: string): FunctionKnowledge | undefined {
    if (!this.object(v, at)) return undefined;
    this.unknownKeys(v, FUNCTION_KEYS, at);
    const out: FunctionKnowledge = {};
    if (v.takes !== undefined) out.takes = this.lockTakes(v.takes, `${at}.takes`);
    if (v.requires !== undefined) out.requires = this.lockTakes(v.requires, `${at}.requires`);
    if (v.reaches !== undefined) out.reaches = this.stringArray(v.reaches, `${at}.reaches`);
    if (v.writes !== undefined) {
      const fields = this.stringArray(v.writes, `${at}.writes`);
      if (fields && fields.every((f, i) => this.classId(f, `${at}.writes[${i}]`) !== undefined)) out.writes = fields;
    }
    if (v.implicitReads !== undefined) out.implicitReads = this.implicitReads(v.implicitReads, `${at}.implicitReads`);
    if (v.outParams !== undefined) out.outParams = this.positions(v.outParams, `${at}.outParams`);
    if (v.releasedBy !== undefined) out.releasedBy = this.stringArray(v.releasedBy, `${at}.releasedBy`);
    if (v.iterator !== undefined && this.object(v.iterator, `${at}.iterator`)) {
      this.unknownKeys(v.iterator, ['cursors', 'validUnder'], `${at}.iterator`);
      const cursors = this.positions(v.iterator.cursors, `${at}.iterator.cursors`);
      const under =
        v.iterator.validUnder === undefined
          ? undefined
          : this.classId(v.iterator.validUnder, `${at}.iterator.validUnder`);
      if (cursors) out.iterator = { cursors, ...(under ? { validUnder: under } : {}) };
    }
    if (v.publishes !== undefined && this.object(v.publishes, `${at}.publishes`)) {
      this.unknownKeys(v.publishes, ['object', 'into'], `${at}.publishes`);
      const object = this.position(v.publishes.object, `${at}.publishes.object`);
      const into = this.position(v.publishes.into, `${at}.publishes.into`);
      if (object !== undefined && into !== undefined) out.publishes = { object, into };
    }
    if (v.finishes !== undefined && this.object(v.finishes, `${at}.finishes`)) {
      this.unknownKeys(v.finishes, ['object', 'aborts'], `${at}.finishes`);
      const object = this.position(v.finishes.object, `${at}.finishes.object`);
      const aborts = v.finishes.aborts;
      if (aborts !== undefined && typeof aborts !== 'boolean')
        this.problem(`${at}.finishes.aborts`, `expected true or false, got ${kindOf(aborts)}`);
      else if (object !== undefined) out.finishes = { object, ...(aborts ? { aborts } : {}) };
    }
    for (const key of ['fallible', 'restoring'] as const) {
      if (v[key] === undefined) continue;
      if (typeof v[key] === 'boolean') out[key] = v[key] as boolean;
      else this.problem(`${at}.${key}`, `expected true or false, got ${kindOf(v[key])}`);
    }
    if (v.irreversible !== undefined) out.irreversible = this.irreversible(v.irreversible, `${at}.irreversible`);
    if (v.outsideLockOrder !== undefined)
      out.outsideLockOrder = this.reason(
        v.outsideLockOrder,
        'runs only once a bug has been found',
        `${at}.outsideLockOrder`,
      );
    return out;
  }

  /** One argument position: a whole number. */
  position(v: Json, at: string): number | undefined {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
    this.problem(at, `expected an argument position (a whole number from 0), got ${JSON.stringify(v)}`);
    return undefined;
  }

  /** Argument positions: an array of whole numbers. */
  positions(v: Json, at: string): number[] | undefined {
    if (!Array.isArray(v) || !v.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)) {
      this.problem(at, `expected an array of argument positions (whole numbers from 0), got ${JSON.stringify(v)}`);
      return undefined;
    }
    return v as number[];
  }

  implicitReads(v: Json, at: string): { field: string; whenArgs: number }[] | undefined {
    if (!Array.isArray(v)) {
      this.problem(at, `expected an array of {"field": "struct.field", "whenArgs": N}, got ${kindOf(v)}`);
      return undefined;
    }
    const out: { field: string; whenArgs: number }[] = [];
    v.forEach((item, i) => {
      const here = `${at}[${i}]`;
      if (!this.object(item, here)) return;
      this.unknownKeys(item, ['field', 'whenArgs'], here);
      const field = this.classId(item.field, `${here}.field`);
      const n = item.whenArgs;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
        this.problem(`${here}.whenArgs`, `expected a whole number of arguments, got ${JSON.stringify(n)}`);
        return;
      }
      if (field) out.push({ field, whenArgs: n });
    });
    return out.length === v.length ? out : undefined;
  }

  /** A reason string; `true` is accepted and given a generic reason, `false` clears it. */
  irreversible(v: Json, at: string): string | undefined {
    return this.reason(v, 'cannot be undone by an error path', at);
  }

  /** A reason: a string, `true` for the default one, `false` for none (clears a built-in one). */
  reason(v: Json, byDefault: string, at: string): string | undefined {
    if (typeof v === 'string' && v.trim() !== '') return v;
    if (v === true) return byDefault;
    if (v === false) return '';
    this.problem(at, `expected a reason string (or true/false), got ${kindOf(v)}`);
    return undefined;
  }

  callbackEntry(v: Json, at: string): CallbackKnowledge | undefined {
    if (!this.object(v, at)) return undefined;
    this.unknownKeys(v, CALLBACK_KEYS, at);
    const out: CallbackKnowledge = {};
    if (v.takes !== undefined) out.takes = this.lockTakes(v.takes, `${at}.takes`);
    if (v.calledWith !== undefined) out.calledWith = this.lockTakes(v.calledWith, `${at}.calledWith`);
    if (v.reaches !== undefined) out.reaches = this.stringArray(v.reaches, `${at}.reaches`);
    if (v.irreversible !== undefined) out.irreversible = this.irreversible(v.irreversible, `${at}.irreversible`);
    return out;
  }
}

/**
 * Parses and validates the text of `.iommufd-review.json`. `source` names the
 * file in messages. A config with problems is still returned with the parts
 * that were valid, so one typo does not throw away the rest; callers decide
 * whether problems are fatal (the CLI exits 2).
 */
export function parseConfig(text: string, source: string): { config?: ReviewConfig; problems: string[] } {
  let raw: Json;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { problems: [`${source}: not valid JSON: ${(e as Error).message}`] };
  }
  const v = new Validator(source);
  if (!isObject(raw)) {
    v.problem('(top level)', `expected an object, got ${kindOf(raw)}`);
    return { problems: v.problems };
  }
  // `$schema` and `//` comments are tolerated: editors and people add them.
  const allowed = [...TOP_KEYS, '$schema', '//'];
  v.unknownKeys(raw, allowed, '');
  const config: ReviewConfig = {};

  if (raw.functions !== undefined && v.object(raw.functions, 'functions')) {
    config.functions = {};
    for (const [name, entry] of Object.entries(raw.functions)) {
      const fk = v.functionEntry(entry, `functions.${name}`);
      if (fk) config.functions[name] = fk;
    }
  }
  if (raw.callbacks !== undefined && v.object(raw.callbacks, 'callbacks')) {
    config.callbacks = {};
    for (const [name, entry] of Object.entries(raw.callbacks)) {
      if (!CLASS_ID.test(name)) {
        v.problem(`callbacks.${name}`, `a callback is named "ops_struct.field" (e.g. "iommufd_access_ops.unmap")`);
        continue;
      }
      const ck = v.callbackEntry(entry, `callbacks.${name}`);
      if (ck) config.callbacks[name] = ck;
    }
  }
  if (raw.structs !== undefined && v.object(raw.structs, 'structs')) {
    config.structs = {};
    for (const [name, fields] of Object.entries(raw.structs)) {
      if (!v.object(fields, `structs.${name}`)) continue;
      const out: Record<string, string> = {};
      for (const [field, type] of Object.entries(fields)) {
        if (typeof type === 'string') out[field] = type;
        else
          v.problem(`structs.${name}.${field}`, `expected a type string such as "struct mutex", got ${kindOf(type)}`);
      }
      config.structs[name] = out;
    }
  }
  if (raw.lockKinds !== undefined && v.object(raw.lockKinds, 'lockKinds')) {
    config.lockKinds = {};
    for (const [lock, kind] of Object.entries(raw.lockKinds)) {
      if (!v.classId(lock, `lockKinds.${lock}`)) continue;
      if (typeof kind === 'string' && LOCK_KINDS.includes(kind as LockKind)) config.lockKinds[lock] = kind as LockKind;
      else v.problem(`lockKinds.${lock}`, `expected one of ${LOCK_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
    }
  }
  if (raw.documentedOrders !== undefined) {
    if (!Array.isArray(raw.documentedOrders)) {
      v.problem(
        'documentedOrders',
        `expected an array of lock orders (arrays of "struct.field", outer first), got ${kindOf(raw.documentedOrders)}`,
      );
    } else {
      config.documentedOrders = [];
      raw.documentedOrders.forEach((order, i) => {
        const names = v.stringArray(order, `documentedOrders[${i}]`);
        if (!names) return;
        if (names.length < 2) {
          v.problem(`documentedOrders[${i}]`, 'an order needs at least two locks');
          return;
        }
        if (names.every((n, j) => v.classId(n, `documentedOrders[${i}][${j}]`) !== undefined))
          config.documentedOrders!.push(names);
      });
    }
  }
  if (raw.protectedBy !== undefined && v.object(raw.protectedBy, 'protectedBy')) {
    config.protectedBy = {};
    for (const [field, lock] of Object.entries(raw.protectedBy)) {
      if (!v.classId(field, `protectedBy.${field}`)) continue;
      const id = v.classId(lock, `protectedBy.${field}`);
      if (id) config.protectedBy[field] = id;
    }
  }
  if (raw.disabledRules !== undefined) {
    const rules = v.stringArray(raw.disabledRules, 'disabledRules');
    if (rules) {
      const bad = rules.filter((r) => !(RULE_IDS as readonly string[]).includes(r));
      for (const r of bad) v.problem('disabledRules', `unknown rule id "${r}" (known: ${RULE_IDS.join(', ')})`);
      config.disabledRules = rules.filter((r) => !bad.includes(r));
    }
  }
  if (raw.minConfidence !== undefined) {
    if (typeof raw.minConfidence === 'string' && (CONFIDENCES as readonly string[]).includes(raw.minConfidence)) {
      config.minConfidence = raw.minConfidence as ReviewConfig['minConfidence'];
    } else {
      v.problem('minConfidence', `expected one of ${CONFIDENCES.join(', ')}, got ${JSON.stringify(raw.minConfidence)}`);
    }
  }
  return { config, problems: v.problems };
}

/**
 * The defaults with a configuration laid over them. A function or callback
 * entry in the config replaces the matching keys of the default entry (keys it
 * does not mention are kept); `irreversible: false` in the config clears the
 * default's reason. Struct fields merge per field; documented orders add to the
 * defaults. The base is never mutated.
 */
export function mergeKnowledge(base: Knowledge, config?: ReviewConfig): Knowledge {
  const out: Knowledge = {
    functions: { ...base.functions },
    callbacks: { ...base.callbacks },
    structs: Object.fromEntries(Object.entries(base.structs).map(([k, v]) => [k, { ...v }])),
    lockKinds: { ...base.lockKinds },
    documentedOrders: base.documentedOrders.map((o) => [...o]),
    protectedBy: { ...base.protectedBy },
  };
  if (!config) return out;
  for (const [name, entry] of Object.entries(config.functions ?? {})) {
    out.functions[name] = dropEmptyReason({ ...out.functions[name], ...entry });
  }
  for (const [name, entry] of Object.entries(config.callbacks ?? {})) {
    out.callbacks[name] = dropEmptyReason({ ...out.callbacks[name], ...entry });
  }
  for (const [name, fields] of Object.entries(config.structs ?? {})) {
    out.structs[name] = { ...out.structs[name], ...fields };
  }
  Object.assign(out.lockKinds, config.lockKinds ?? {});
  Object.assign(out.protectedBy, config.protectedBy ?? {});
  for (const order of config.documentedOrders ?? []) {
    if (!out.documentedOrders.some((o) => o.length === order.length && o.every((n, i) => n === order[i]))) {
      out.documentedOrders.push([...order]);
    }
  }
  return out;
}

function dropEmptyReason<T extends { irreversible?: string; outsideLockOrder?: string }>(entry: T): T {
  if (entry.irreversible === '') delete entry.irreversible;
  if (entry.outsideLockOrder === '') delete entry.outsideLockOrder;
  return entry;
}
