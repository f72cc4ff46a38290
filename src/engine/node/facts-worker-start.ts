/**
 * Node-only: what a worker thread of facts-workers.ts runs in the bundled CLI
 * (dist/facts-worker.js): the worker's bundle, dist/facts-worker-main.js
 * (facts-worker.ts), through V8's code cache (code-cache.ts), written when
 * the worker exits after a run that had none. Unbundled (tests), facts-worker.js
 * is the worker itself.
 */
import * as path from 'path';
import { codeCacheDir, runThroughCodeCache } from './code-cache';

runThroughCodeCache(path.join(__dirname, 'facts-worker-main.js'), codeCacheDir());
