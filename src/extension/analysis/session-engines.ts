/**
 * Fresh engines in the extension host, for one-shot jobs whose models the
 * extension itself needs: patch reviews (their pre- and post-images feed the
 * decorations, review sessions and from-source simulation of patch lines)
 * and the workspace SARIF export. The wasm parser is loaded once, on first
 * use, and the knowledge configuration read once. The live analysis of the
 * open C documents is the language server's (server-analysis.ts).
 */
import * as vscode from 'vscode';
import type { CParser } from '../../engine/parse/syntax';
import type { ReviewConfig } from '../../engine/knowledge/types';
import { parseConfig } from '../../engine/knowledge/config';
import type { EngineApi } from './engine-api';
import type { Log } from '../log';
import { readSettings } from '../settings';

export type EngineFactory = (parser: CParser, config: ReviewConfig | undefined) => EngineApi;

/**
 * The configuration file of the first workspace folder (`iommufd.configFile`,
 * relative to it, or absolute), its name and text; undefined when there is
 * none or the workspace is untrusted (built-in knowledge only).
 */
export async function readConfigFile(): Promise<{ file: string; text: string } | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder || !vscode.workspace.isTrusted) return undefined;
  const name = readSettings(folder.uri).configFile;
  if (!name) return undefined;
  const uri = /^([a-z]+:|\/)/i.test(name)
    ? name.startsWith('/')
      ? folder.uri.with({ path: name })
      : vscode.Uri.parse(name)
    : vscode.Uri.joinPath(folder.uri, name);
  try {
    return { file: name, text: new TextDecoder('utf-8').decode(await vscode.workspace.fs.readFile(uri)) };
  } catch {
    return undefined; // no config file: the defaults apply
  }
}

export class SessionEngines implements vscode.Disposable {
  private parserLoad?: Promise<CParser>;
  private config?: Promise<ReviewConfig | undefined>;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly loadParser: (extensionUri: vscode.Uri) => Promise<CParser>,
    private readonly createEngine: EngineFactory,
    private readonly log: Log,
  ) {}

  private loadParserOnce(): Promise<CParser> {
    this.parserLoad ??= this.loadParser(this.extensionUri);
    this.parserLoad.catch(() => (this.parserLoad = undefined));
    return this.parserLoad;
  }

  private readConfigOnce(): Promise<ReviewConfig | undefined> {
    this.config ??= this.readConfig();
    return this.config;
  }

  /** Makes fresh in-thread engines on the same parser and configuration (a patch review uses several). */
  async sessionFactory(): Promise<() => EngineApi> {
    const [parser, config] = await Promise.all([this.loadParserOnce(), this.readConfigOnce()]);
    return () => this.createEngine(parser, config);
  }

  private async readConfig(): Promise<ReviewConfig | undefined> {
    const found = await readConfigFile();
    if (!found) return undefined;
    const { config, problems } = parseConfig(found.text, found.file);
    for (const p of problems) this.log.warn(p);
    if (problems.length > 0)
      void vscode.window
        .showWarningMessage(`iommufd: ${problems.length} problem(s) in ${found.file}; see the output log.`, 'Show Log')
        .then((a) => a && this.log.show());
    return config;
  }

  dispose(): void {
    void this.parserLoad?.then(
      (p) => p.dispose(),
      () => undefined,
    );
  }
}

/** A kernel tree with iommufd in it: a patch mail in it is reviewed against it. */
export async function isKernelTree(folder: vscode.Uri): Promise<boolean> {
  try {
    const stat = await vscode.workspace.fs.stat(vscode.Uri.joinPath(folder, 'drivers', 'iommu', 'iommufd'));
    return (stat.type & vscode.FileType.Directory) !== 0;
  } catch {
    return false;
  }
}
