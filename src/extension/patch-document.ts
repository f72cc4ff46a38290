/** Which documents are patch mails to annotate: activation asks before the patch layer is loaded. */
import type * as vscode from 'vscode';
import { isUserDocument } from './analysis/paths';

export const PATCH_LANGUAGE = 'iommufd-patch';

export function isPatchDocument(doc: vscode.TextDocument): boolean {
  return doc.languageId === PATCH_LANGUAGE && isUserDocument(doc.uri);
}
