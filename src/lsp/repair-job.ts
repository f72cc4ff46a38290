/**
 * A repair search as a job: what runs it (a worker thread on Node hosts, for
 * the extension and the language server; the extension host itself in a browser) gets the file's text and the finding's
 * scenario, and answers with the report or why there is none. Plain data: it
 * crosses a worker boundary.
 */
import type { RepairInput, RepairReport } from '../sim/repair';

export type RepairJob = Omit<RepairInput, 'parser'>;

export type RepairReply = { report: RepairReport } | { error: string; input: boolean };

/** Runs a job; `signal` aborts it (the promise then rejects with an AbortError). */
export type RepairRunner = (job: RepairJob, signal: AbortSignal) => Promise<RepairReply>;
