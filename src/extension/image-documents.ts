/**
 * Read-only documents of the images a patch review analysed: the post-image
 * (or, for a fixed finding, the pre-image) of each file a patch touches, as
 * applied to the blob, base-commit or work tree the review used, or as the
 * hunks show it. A patch finding's related locations open these at their
 * lines, so a file that exists only in the patch (or only at another commit)
 * never opens as "file not found". The URI's path ends with the file's own
 * path, so the editor names it and picks C for it.
 */
import * as vscode from 'vscode';
import type { ImageText } from '../patch/image-texts';

export const IMAGE_SCHEME = 'iommufd-image';

export interface ImageDocuments {
  /** Replaces what a patch document's review produced. */
  set(doc: vscode.Uri, patch: number, images: readonly ImageText[]): void;
  /** Forgets a patch document's images (closed, or about to be reviewed again). */
  drop(doc: vscode.Uri): void;
  /** The image document of `file` on `side` after `patch` of `doc`, if the review produced it. */
  uri(doc: vscode.Uri, patch: number, side: 'pre' | 'post', file: string): vscode.Uri | undefined;
}

function imageUri(doc: vscode.Uri, patch: number, side: 'pre' | 'post', file: string): vscode.Uri {
  return vscode.Uri.from({
    scheme: IMAGE_SCHEME,
    path: `/${patch}-${side}/${file}`,
    query: new URLSearchParams({ doc: doc.toString() }).toString(),
  });
}

export function registerImageDocuments(context: vscode.ExtensionContext): ImageDocuments {
  const texts = new Map<string, string>();
  const byDoc = new Map<string, Set<string>>();
  const changed = new vscode.EventEmitter<vscode.Uri>();
  const provider: vscode.TextDocumentContentProvider = {
    onDidChange: changed.event,
    provideTextDocumentContent: (uri) =>
      texts.get(uri.toString()) ??
      `/* iommufd: this image is gone: its patch mail was closed or changed (${uri.path.replace(/^\/\d+-(pre|post)\//, '')}) */\n`,
  };
  context.subscriptions.push(changed, vscode.workspace.registerTextDocumentContentProvider(IMAGE_SCHEME, provider));
  const drop = (doc: vscode.Uri): void => {
    for (const key of byDoc.get(doc.toString()) ?? []) texts.delete(key);
    byDoc.delete(doc.toString());
  };
  return {
    set(doc, patch, images) {
      let keys = byDoc.get(doc.toString());
      if (!keys) byDoc.set(doc.toString(), (keys = new Set()));
      for (const image of images) {
        const uri = imageUri(doc, patch, image.side, image.path);
        texts.set(uri.toString(), image.text);
        keys.add(uri.toString());
        // An image document already open shows the new review's text.
        changed.fire(uri);
      }
    },
    drop,
    uri(doc, patch, side, file) {
      const uri = imageUri(doc, patch, side, file);
      return texts.has(uri.toString()) ? uri : undefined;
    },
  };
}
