/**
 * What `iommufd-review` runs (dist/cli.js): the CLI's bundle, dist/cli-main.js
 * (src/cli/main.ts), through V8's code cache in the tool's cache folder
 * (src/engine/node/code-cache.ts), so a run after the first compiles little
 * of its 1.5 MB. The bundle gets this module as its own, so it runs as the
 * main module it was before.
 */
import * as path from 'path';
import { codeCacheDir, runThroughCodeCache } from '../engine/node/code-cache';

runThroughCodeCache(path.join(__dirname, 'cli-main.js'), codeCacheDir(), { module });
