/** The "iommufd review" output channel: every step a user may want to trace. */
import * as vscode from 'vscode';

export interface Log {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, err?: unknown): void;
  show(): void;
  /** The channel itself: the language client writes the server's log and stderr into it. */
  channel: vscode.LogOutputChannel;
}

export function createLog(context: vscode.ExtensionContext): Log {
  const channel = vscode.window.createOutputChannel('iommufd review', { log: true });
  context.subscriptions.push(channel);
  return {
    info: (m) => channel.info(m),
    warn: (m) => channel.warn(m),
    error: (m, err) =>
      channel.error(err === undefined ? m : `${m}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`),
    show: () => channel.show(true),
    channel,
  };
}
