/**
 * The Node hosts' language client bundle (dist/language-client.js): most of
 * what the extension host evaluates for the extension, so node-entry.ts
 * requires it after activate() returned rather than with dist/extension.js.
 */
export { LanguageClient } from 'vscode-languageclient/node';
