/**
 * What the server core needs from its platform, injected so the core stays
 * free of Node: a Node process reads the disk (node-host.ts); a Web Worker
 * host (a later browser entry, or the VS Code web extension as client) would
 * answer from the client's file system or not at all. Every method may fail
 * or find nothing: the analysis then runs on the open documents alone.
 */
import type { CParser } from '../engine/parse/syntax';
import type { ReviewConfig } from '../engine/knowledge/types';
import type { TreeReader } from '../patch/tree';
import type { FactsStore } from '../engine/index/facts';
import type { RepairRunner } from './repair-job';

/** The persistent facts index a host may keep (Node: a folder on disk): a file whose exact text it has seen is not parsed again. */
export interface HostFacts {
  store: FactsStore;
  /** How many entries were loaded so far (a file set after this grew came from the index). */
  loaded(): number;
  /** What went wrong with the index so far (unwritable, entries set aside): one line each. */
  notes(): string[];
  /**
   * A whole answer remembered under a key the caller derives from all of its
   * inputs (the store keeps one space per engine build); undefined when none.
   */
  getResult?(key: string): unknown;
  putResult?(key: string, value: unknown): void;
}

export interface LoadedConfiguration {
  /** The file used, if any. */
  file?: string;
  config?: ReviewConfig;
  /** Each `file: key.path: what is wrong`; non-empty means the file was not used. */
  problems: string[];
}

export interface ServerHost {
  createParser(): Promise<CParser>;
  /** Whether `readText`/`listFiles` can reach the file a key names (Node: paths on disk; a client's file system: any but untitled). */
  readable(key: string): boolean;
  /** Text of a file on disk by engine key (an absolute path); undefined when it cannot be read. */
  readText(path: string): Promise<string | undefined>;
  /** Names of the regular files in a directory; [] when there is none. */
  listFiles(dir: string): Promise<string[]>;
  /**
   * The kernel tree `path` lies in (a directory with `drivers/iommu/iommufd`):
   * one of `roots` (the client's workspace folders) first, else found upward.
   */
  kernelRoot(path: string, roots: readonly string[]): Promise<string | undefined>;
  /** Tree-relative `/` paths of C files under the given tree-relative folders or files, at most `limit`. */
  listTree(root: string, entries: readonly string[], limit: number): Promise<string[]>;
  /**
   * The knowledge configuration: `configFile` (absolute, or relative to the
   * first of `roots`) when it exists, else `.iommufd-review.json` found upward
   * from `paths`.
   */
  loadConfig(configFile: string, roots: readonly string[], paths: readonly string[]): LoadedConfiguration;
  /** A base tree for patch reviews (the patch layer reads it). */
  tree(root: string): TreeReader;
  /** Base URI of docs/engine.md; a rule's documentation is `<base>#<rule-id>`. */
  docsBaseUri: string;
  /** Runs the repair search off the server's event loop (Node: a worker thread); absent: no verified-fix action. */
  repair?: RepairRunner;
  /** The persistent index, when the host keeps one. */
  facts?: HostFacts;
  /** The package version, for serverInfo. */
  version: string;
}
