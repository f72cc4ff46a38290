/**
 * Lookups into the knowledge tables by a name taken from analysed code. The
 * tables are plain objects, so a function called `constructor` or `toString`
 * must not find Object.prototype's members.
 */
import type { CallbackKnowledge, FunctionKnowledge, Knowledge } from './types';

const own = Object.prototype.hasOwnProperty;

export function functionKnowledge(k: Knowledge, name: string): FunctionKnowledge | undefined {
  return own.call(k.functions, name) ? k.functions[name] : undefined;
}

export function callbackKnowledge(k: Knowledge, key: string): CallbackKnowledge | undefined {
  return own.call(k.callbacks, key) ? k.callbacks[key] : undefined;
}

export function protectingLock(k: Knowledge, field: string): string | undefined {
  return own.call(k.protectedBy, field) ? k.protectedBy[field] : undefined;
}
