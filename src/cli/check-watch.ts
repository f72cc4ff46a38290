/**
 * `check --watch`: after the first answer, stay loaded and check again each
 * time a reported file is saved. With a whole kernel tree as context the first
 * answer takes minutes; a re-check keeps every other file's model, and the
 * summaries and lock graph too when the edit changed no call, lock, callback
 * or store (lines inserted or deleted around them are fine), so it costs
 * about the edited file's own rules.
 *
 * Only the reported files are watched, through their folders (editors save by
 * writing a new file and renaming it over the old one, which a watch on the
 * file itself stops seeing). A change under `--tree` is not followed: restart.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as v8 from 'v8';
import * as vm from 'vm';
import type { AnalysisResult } from '../engine/types';
import type { CheckSession } from './check';

/** Saves come in bursts (write, rename, attribute change): one re-check after this much quiet. */
export const SETTLE_MS = 150;

export interface WatchOutput {
  /** The result in the run's format (text). */
  result(result: AnalysisResult): Promise<void>;
  /** A status line (stderr). */
  note(line: string): void;
}

/**
 * Watches `session.files` until SIGINT or SIGTERM; prints every result.
 * Resolves with the last result's findings count. A signal while waiting ends
 * the watch (the caller exits with the last answer's status); during a
 * re-check, which runs on this thread and with a whole tree as context can
 * take minutes, the signal's default action ends the process at once.
 */
export async function watchCheck(first: AnalysisResult, session: CheckSession, out: WatchOutput): Promise<number> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  const listen = (on: boolean): void => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.off(sig, onSignal);
      if (on) process.on(sig, onSignal);
    }
  };
  listen(true);
  try {
    return await watchUntil(first, session, out, stop.signal, listen);
  } finally {
    listen(false);
  }
}

async function watchUntil(
  first: AnalysisResult,
  session: CheckSession,
  out: WatchOutput,
  stop: AbortSignal,
  listen: (on: boolean) => void,
): Promise<number> {
  await out.result(first);
  let last = first.findings.length;
  const byResolved = new Map(session.files.map((f) => [path.resolve(f), f]));
  const folders = new Set([...byResolved.keys()].map((f) => path.dirname(f)));
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const recheck = async (): Promise<void> => {
    // A re-check queued behind one that already took its saves has nothing left to do.
    if (pending.size === 0) return;
    const changed = [...pending];
    pending.clear();
    const started = performance.now();
    let outcome;
    listen(false);
    try {
      outcome = session.recheck(changed);
    } catch (e) {
      // A bug must not end the session the user is working in: say so and keep watching.
      out.note(`iommufd-review: re-check failed: ${(e as Error).message}`);
      return;
    } finally {
      listen(true);
    }
    const ms = Math.round(performance.now() - started);
    const names = changed.join(', ');
    out.note(
      `iommufd-review: re-checked after a change to ${names} in ${ms} ms (${
        outcome.reusedGlobal
          ? 'summaries and lock graph kept: no call, lock, callback or store changed; lines moved at most'
          : 'summaries and lock graph redone: a call, lock, callback or store changed'
      })`,
    );
    last = outcome.result.findings.length;
    await out.result(outcome.result);
  };

  const watchers: fs.FSWatcher[] = [];
  for (const folder of folders) {
    try {
      const w = fs.watch(folder, (_event, name) => {
        if (!name) return;
        const file = byResolved.get(path.join(folder, name.toString()));
        if (!file) return;
        pending.add(file);
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          timer = undefined;
          // One re-check at a time, in order: a save during a re-check is checked after it.
          running = running
            .then(recheck)
            .catch((e: unknown) => out.note(`iommufd-review: re-check failed: ${(e as Error).message}`));
        }, SETTLE_MS);
      });
      w.on('error', (e) => out.note(`iommufd-review: stopped watching ${folder}: ${e.message}`));
      watchers.push(w);
    } catch (e) {
      out.note(`iommufd-review: cannot watch ${folder}: ${(e as Error).message}`);
    }
  }
  if (watchers.length === 0) return last;
  collectAfterFirstAnswer(out);
  out.note(
    `iommufd-review: watching ${byResolved.size} file${byResolved.size === 1 ? '' : 's'} for changes (Ctrl-C to stop)`,
  );
  await new Promise<void>((resolve) => {
    if (stop.aborted) resolve();
    else stop.addEventListener('abort', () => resolve(), { once: true });
  });
  if (timer) clearTimeout(timer);
  for (const w of watchers) w.close();
  await running;
  return last;
}

/** Above this much live heap, the first answer's garbage is collected before the watch starts. */
const COLLECT_ABOVE_BYTES = 1 << 30;

/**
 * With a whole tree as context the heap is about 12 GB after the first
 * answer, much of it that answer's garbage. Left to itself, the collector
 * marks it during the next re-checks: in one measured run the second save
 * took 40 s instead of 1 to 2 s. Collected here instead, while the user
 * reads the first answer, the later re-checks start from the live size.
 */
function collectAfterFirstAnswer(out: WatchOutput): void {
  if (process.memoryUsage().heapUsed < COLLECT_ABOVE_BYTES) return;
  const started = performance.now();
  const before = process.memoryUsage().heapUsed;
  try {
    v8.setFlagsFromString('--expose-gc');
    (vm.runInNewContext('gc') as () => void)();
  } catch (e) {
    // A runtime that does not take the flag: the collector runs when it would have anyway.
    out.note(`iommufd-review: could not collect the first answer's garbage: ${(e as Error).message}`);
    return;
  }
  const after = process.memoryUsage().heapUsed;
  const gib = (n: number): string => (n / 2 ** 30).toFixed(1);
  out.note(
    `iommufd-review: collected the first answer's garbage in ${Math.round(performance.now() - started)} ms (heap ${gib(before)} -> ${gib(after)} GiB)`,
  );
}
