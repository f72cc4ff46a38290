/**
 * The messages between the extension host and the editor's engine thread
 * (engine-worker.ts, engine-thread.ts): one request per `LiveEngine` call,
 * answered by its id, in order.
 */
import type { ReviewConfig } from '../../engine/knowledge/types';
import type { LiveEngine } from '../analysis/engine-api';

export interface EngineThreadInit {
  config?: ReviewConfig;
  /** The persistent index folder (the extension's global storage); undefined: no index. */
  indexDir?: string;
}

type Calls = Omit<LiveEngine, 'dispose'>;
export type EngineOp = keyof Calls;

export interface EngineRequest {
  id: number;
  op: EngineOp;
  args: unknown[];
}

export type EngineReply = { id: number; value: unknown } | { id: number; error: string };
