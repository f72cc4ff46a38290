/** The TypeScript sources under a folder, for tests that read the code itself (layering, regex audit). */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...tsFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}
