/**
 * Lock orders documented in comments ("The locking order is domains_rwsem ->
 * iova_rwsem -> pages::mutex"): reading them out of comment text, and
 * resolving the names people write there (a bare field, `struct::field`,
 * `member::field`) to lock class ids (`struct.field`).
 */

/** "locking order is", "lock order:", "lock ordering is" … then the chain. */
const ORDER_INTRO = /\block(?:ing)?\s+order(?:ing)?\s*(?:is\s*:?|:)\s*/i;
const ARROW = /->|→|=>/;
/** A lock name as written: `iova_rwsem`, `pages::mutex`, `iopt_pages.mutex`, `ioas->mutex`, `&x->lock`. */
const NAME = /^&?[A-Za-z_]\w*(?:(?:::|\.|->)[A-Za-z_]\w*)*$/;
const LOCK_TYPE = /\b(?:mutex|rw_semaphore|spinlock_t|rwlock_t|raw_spinlock_t|xarray|semaphore)\b/;

/** Drops the comment's closing stars and slash, walking back from the end (a regex for them anchored at `$` rescans every star run). */
function stripClosing(text: string): string {
  const t = text.trimEnd();
  if (!t.endsWith('*/')) return text;
  let i = t.length - 2;
  while (i > 0 && t[i - 1] === '*') i--;
  return t.slice(0, i);
}

/** Removes comment markers (`/*`, leading `*`, `//`) and joins lines. */
function commentBody(commentText: string): string {
  return stripClosing(commentText)
    .replace(/^\s*\/\*+/, '')
    .split('\n')
    .map((l) => l.replace(/^\s*(?:\*(?!\/)|\/\/)\s?/, ''))
    .join(' ');
}

/**
 * The lock names of a "locking order is A -> B -> C" comment, outer first, as
 * written; undefined when the comment documents no order. Needs at least two
 * names joined by arrows; the chain ends at the first word that is not a name.
 */
export function parseDocumentedOrder(commentText: string): string[] | undefined {
  const body = commentBody(commentText);
  const intro = ORDER_INTRO.exec(body);
  if (!intro) return undefined;
  const rest = body.slice(intro.index + intro[0].length);
  const names: string[] = [];
  let tail = rest;
  for (;;) {
    const m = /^\s*(&?[A-Za-z_][\w]*(?:(?:::|\.|->)[A-Za-z_]\w*)*)/.exec(tail);
    if (!m || !NAME.test(m[1])) break;
    names.push(m[1].replace(/^&/, ''));
    tail = tail.slice(m[0].length);
    const arrow = /^\s*(?:->|→|=>)\s*/.exec(tail);
    if (!arrow) break;
    tail = tail.slice(arrow[0].length);
  }
  // Names joined by anything but arrows ("domains_rwsem then iova") are not an order we can trust.
  if (names.length < 2) return undefined;
  if (!ARROW.test(rest)) return undefined;
  return names;
}

type Structs = Record<string, Record<string, string>>;

function isLockField(structs: Structs, struct: string, field: string): boolean {
  const type = structs[struct]?.[field];
  return type !== undefined && LOCK_TYPE.test(type);
}

/** `struct iopt_pages *` → `iopt_pages`. */
function structOfType(type: string): string | undefined {
  return /\bstruct\s+([A-Za-z_]\w*)/.exec(type)?.[1];
}

/**
 * Who has which field, read once per struct table: a documented order's
 * names are resolved by lookup, not by scanning every struct per name (with
 * a whole tree as context that is a hundred thousand structs per name).
 */
interface StructIndex {
  /** Field name → the structs where it is a lock. */
  lockOwners: Map<string, string[]>;
  /** Member name → the structs that have a member of that name. */
  holders: Map<string, string[]>;
  /** `x` → the structs named `*_x`, filled on first use. */
  suffixed: Map<string, string[]> | undefined;
}

const indexes = new WeakMap<Structs, StructIndex>();

function indexOf(structs: Structs): StructIndex {
  let index = indexes.get(structs);
  if (index) return index;
  index = { lockOwners: new Map(), holders: new Map(), suffixed: undefined };
  for (const [struct, fields] of Object.entries(structs)) {
    for (const [field, type] of Object.entries(fields)) {
      push(index.holders, field, struct);
      if (LOCK_TYPE.test(type)) push(index.lockOwners, field, struct);
    }
  }
  indexes.set(structs, index);
  return index;
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The structs named `something_${owner}`. */
function suffixedBy(structs: Structs, index: StructIndex, owner: string): string[] {
  if (!index.suffixed) {
    index.suffixed = new Map();
    for (const struct of Object.keys(structs))
      for (let i = struct.indexOf('_'); i >= 0; i = struct.indexOf('_', i + 1))
        push(index.suffixed, struct.slice(i + 1), struct);
  }
  return index.suffixed.get(owner) ?? [];
}

/**
 * Resolves one name from a documented order to a class id, or undefined when
 * it is unknown or ambiguous. `context` is the struct the comment documents
 * (the one defined right below it), preferred when a bare field name exists
 * in several structs.
 */
export function resolveOrderName(name: string, structs: Structs, context?: string): string | undefined {
  const parts = name.replace(/^&/, '').split(/::|\.|->/);
  const index = indexOf(structs);
  if (parts.length === 1) {
    const field = parts[0];
    if (context && isLockField(structs, context, field)) return `${context}.${field}`;
    const owners = index.lockOwners.get(field) ?? [];
    return owners.length === 1 ? `${owners[0]}.${field}` : undefined;
  }
  const field = parts[parts.length - 1];
  const owner = parts[parts.length - 2];
  // `iopt_pages::mutex`: the struct itself.
  if (isLockField(structs, owner, field)) return `${owner}.${field}`;
  // `pages::mutex`: a member named `pages` whose struct type has the lock field.
  const viaMember = new Set<string>();
  const holders =
    context && Object.hasOwn(structs[context] ?? {}, owner) ? [context] : (index.holders.get(owner) ?? []);
  for (const holder of holders) {
    const target = structOfType(structs[holder][owner]);
    if (target && isLockField(structs, target, field)) viaMember.add(`${target}.${field}`);
  }
  if (viaMember.size === 1) return [...viaMember][0];
  // `pages::mutex` with no member in view: a struct named `*_pages` that has the lock.
  const suffixed = suffixedBy(structs, index, owner).filter((s) => isLockField(structs, s, field));
  return suffixed.length === 1 ? `${suffixed[0]}.${field}` : undefined;
}

/**
 * Class ids of a documented order, outer first. Names that cannot be
 * resolved are dropped: an order is transitive, so the remaining pairs keep
 * their documented direction.
 */
export function resolveOrderNames(names: readonly string[], structs: Structs, context?: string): string[] {
  const out: string[] = [];
  for (const n of names) {
    const id = resolveOrderName(n, structs, context);
    if (id && !out.includes(id)) out.push(id);
  }
  return out;
}
