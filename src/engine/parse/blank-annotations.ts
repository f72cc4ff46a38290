/**
 * Kernel annotations that tree-sitter-c does not know (`__user`, `__init`,
 * `__must_hold(x)`, ...) turn whole declarations into ERROR nodes. We replace
 * them with the same number of spaces before parsing, so every offset, line
 * and column still points at the user's text.
 */

import { closingParen, rewriteLoopMacros } from './loop-macros';

// Bare attribute-like identifiers.
const BARE = [
  '__init',
  '__exit',
  '__initdata',
  '__exitdata',
  '__initconst',
  '__user',
  '__kernel',
  '__iomem',
  '__rcu',
  '__percpu',
  '__force',
  '__bitwise',
  '__must_check',
  '__cold',
  '__hot',
  '__always_inline',
  'noinline',
  '__noinline',
  '__maybe_unused',
  '__always_unused',
  '__used',
  '__read_mostly',
  '__ro_after_init',
  '__packed',
  '__weak',
  '__pure',
  '__noreturn',
  '__randomize_layout',
  '__private',
  '__safe',
  '__nocast',
  '__iomem',
  '__visible',
  'asmlinkage',
  'notrace',
  '__cacheline_aligned',
  '__cacheline_aligned_in_smp',
  '__latent_entropy',
  'fallthrough',
];

// Annotations with a parenthesised argument list. The lock ones are also read
// by the model from the original text, so blanking loses nothing.
const CALLED = [
  '__must_hold',
  '__acquires',
  '__releases',
  '__aligned',
  '__printf',
  '__scanf',
  '__section',
  '__counted_by',
  '__attribute__',
  '__diag_ignore',
  '__cond_acquires',
  '__guarded_by',
  '__alloc_size',
  '__malloc',
  '__nonstring',
  '__assume_aligned',
  'EXPORT_SYMBOL_NS_GPL',
  'EXPORT_SYMBOL_NS',
  'EXPORT_SYMBOL_GPL',
  'EXPORT_SYMBOL',
  'MODULE_IMPORT_NS',
];

const bareRe = new RegExp(`\\b(?:${BARE.join('|')})\\b`, 'g');
const calledRe = new RegExp(`\\b(?:${CALLED.join('|')})\\s*\\(`, 'g');

function spaces(s: string): string {
  // Keep newlines so line numbers never move.
  return s.replace(/[^\n]/g, ' ');
}

/** The text tree-sitter parses: annotations blanked, iterator macro heads renamed to `while` (loop-macros.ts). */
export function blankAnnotations(text: string): string {
  return rewriteLoopMacros(blankOnly(text));
}

function blankOnly(text: string): string {
  let out = text.replace(bareRe, (m) => ' '.repeat(m.length));
  const pieces: string[] = [];
  let last = 0;
  calledRe.lastIndex = 0;
  for (let m = calledRe.exec(out); m; m = calledRe.exec(out)) {
    const open = m.index + m[0].length - 1;
    const end = closingParen(out, open);
    if (end < 0) continue;
    let stop = end;
    // EXPORT_SYMBOL(x); at file scope: blank its semicolon too.
    if (m[0].startsWith('EXPORT_SYMBOL') || m[0].startsWith('MODULE_IMPORT_NS')) {
      const semi = /^\s*;/.exec(out.slice(end));
      if (semi) stop = end + semi[0].length;
    }
    pieces.push(out.slice(last, m.index), spaces(out.slice(m.index, stop)));
    last = stop;
    calledRe.lastIndex = stop;
  }
  if (last > 0) {
    pieces.push(out.slice(last));
    out = pieces.join('');
  }
  return out;
}
