/** Node-only: the tool's cache folder, under which the CLI keeps its index and its code cache. */
import * as os from 'os';
import * as path from 'path';

/** IOMMUFD_REVIEW_CACHE (as scripts/ensure.mjs), else ~/.cache/iommufd-review. */
export function cacheRoot(): string {
  return process.env.IOMMUFD_REVIEW_CACHE || path.join(os.homedir(), '.cache', 'iommufd-review');
}
