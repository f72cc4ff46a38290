/**
 * A real editor other than VS Code: Debian's Neovim (0.7.2, installed by
 * `npm test` through scripts/ensure-extra/neovim.mjs), headless, configured
 * with the README's Neovim 0.7 block verbatim, with `iommufd-review` on PATH
 * as the bundle. It opens the v8-like example, reads the diagnostic as
 * Neovim stored it, edits the buffer into the merged order and waits for the
 * diagnostic to go.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cliBundle, fileUri, repoRoot } from './lsp-client';

const NVIM = process.env.IOMMUFD_REVIEW_NVIM || 'nvim';
const MARKER = '<!-- neovim-0.7: the configuration test/unit/lsp/neovim.test.ts runs -->';

/** The Lua block that follows the marker in a Markdown file. */
function neovimBlock(markdownFile: string): string {
  const text = readFileSync(markdownFile, 'utf8');
  const at = text.indexOf(MARKER);
  assert.ok(at >= 0, `${markdownFile} has no ${MARKER}`);
  const m = /```lua\n([\s\S]*?)```/.exec(text.slice(at));
  assert.ok(m, `no lua block after the marker in ${markdownFile}`);
  return m[1];
}

// The test's own driver: open, wait, record, edit, wait, record, quit.
const DRIVER = `
dofile(vim.env.IOMMUFD_LSP_CONFIG)
vim.cmd('edit ' .. vim.fn.fnameescape(vim.env.IOMMUFD_LSP_FILE))
local buf = vim.api.nvim_get_current_buf()
local function dump()
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local lsp = (d.user_data or {}).lsp or {}
    table.insert(out, { lnum = d.lnum, code = d.code or lsp.code, source = d.source, message = d.message,
      href = lsp.codeDescription and lsp.codeDescription.href or vim.NIL, related = lsp.relatedInformation or {} })
  end
  return out
end
local result = {}
result.found = vim.wait(60000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
result.before = dump()
local clients = {}
for _, c in pairs(vim.lsp.buf_get_clients(buf)) do table.insert(clients, c.name) end
result.clients = clients
local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
local detach, inc
for i, l in ipairs(lines) do
  if l == '\\ttoy_detach_locked(access);' then detach = i - 1 end
  if l == '\\trefcount_inc(&new_ioas->obj.users);' then inc = i - 1 end
end
-- The merged order: attach the new IOAS first, detach from the old one once that worked.
vim.api.nvim_buf_set_lines(buf, inc, inc, false, { '\\ttoy_detach_locked(access);' })
vim.api.nvim_buf_set_lines(buf, detach, detach + 1, false, {})
result.cleared = vim.wait(60000, function() return #vim.diagnostic.get(buf) == 0 end, 50)
result.after = dump()
vim.fn.writefile({ vim.fn.json_encode(result) }, vim.env.IOMMUFD_LSP_OUT)
vim.cmd('qall!')
`;

interface NvimDiagnostic {
  lnum: number;
  code: string;
  source: string;
  message: string;
  href: string;
  related: { location: { uri: string; range: { start: { line: number } } }; message: string }[];
}

test('Neovim 0.7 with the README configuration shows unmap-before-rollback, and the merged order clears it', () => {
  const version = spawnSync(NVIM, ['--version'], { encoding: 'utf8' });
  assert.equal(version.status, 0, `nvim is missing (${NVIM}); npm test installs Debian's neovim`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iommufd-nvim-'));
  try {
    const bin = path.join(dir, 'bin');
    spawnSync('mkdir', ['-p', bin]);
    // `iommufd-review` as a user has it after installing the package: the bundle.
    writeFileSync(path.join(bin, 'iommufd-review'), `#!/bin/sh\nexec "${process.execPath}" "${cliBundle}" "$@"\n`);
    chmodSync(path.join(bin, 'iommufd-review'), 0o755);
    const work = path.join(dir, 'src');
    spawnSync('mkdir', ['-p', work]);
    const file = path.join(work, 'toy_replace_detach_first.c');
    copyFileSync(path.join(repoRoot, 'examples/c/toy_replace_detach_first.c'), file);
    writeFileSync(path.join(dir, 'config.lua'), neovimBlock(path.join(repoRoot, 'README.md')));
    writeFileSync(path.join(dir, 'driver.lua'), DRIVER);
    const out = path.join(dir, 'out.json');
    const r = spawnSync(NVIM, ['--headless', '--clean', '-c', `luafile ${path.join(dir, 'driver.lua')}`], {
      cwd: work,
      encoding: 'utf8',
      timeout: 150_000,
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        HOME: dir,
        XDG_STATE_HOME: path.join(dir, 'state'),
        XDG_CACHE_HOME: path.join(dir, 'cache'),
        IOMMUFD_LSP_CONFIG: path.join(dir, 'config.lua'),
        IOMMUFD_LSP_FILE: file,
        IOMMUFD_LSP_OUT: out,
      },
    });
    let text: string;
    try {
      text = readFileSync(out, 'utf8');
    } catch {
      let lspLog = '';
      try {
        lspLog = readFileSync(path.join(dir, 'state/nvim/lsp.log'), 'utf8').slice(-3000);
      } catch {
        /* none */
      }
      assert.fail(`nvim wrote no result (status ${r.status}, signal ${r.signal}): ${r.stderr}\n${r.stdout}\n${lspLog}`);
    }
    const result = JSON.parse(text) as {
      found: boolean;
      cleared: boolean;
      clients: string[];
      before: NvimDiagnostic[];
      after: NvimDiagnostic[];
    };
    assert.deepEqual(result.clients, ['iommufd-review']);
    assert.equal(result.found, true);
    assert.equal(result.before.length, 1);
    const d = result.before[0];
    assert.equal(d.code, 'unmap-before-rollback');
    assert.equal(d.source, 'iommufd');
    assert.equal(d.lnum, 33);
    assert.match(
      d.message,
      /^`toy_detach_locked\(\)` unmaps the driver's pages, .* before `iopt_add_access\(\)` can fail \(line 34\);/,
    );
    assert.match(d.href, /docs\/engine\.md#unmap-before-rollback$/);
    assert.deepEqual(
      d.related.slice(0, 2).map((x) => [x.location.uri, x.location.range.start.line, x.message]),
      [
        [
          fileUri(file),
          31,
          "`toy_detach_locked()` unmaps the driver's pages, removes the access from the IOAS and drops the reference to the old object: cannot be undone",
        ],
        [fileUri(file), 16, "`access->ops->unmap()` unmaps the driver's pages (inside `toy_detach_locked()`)"],
      ],
    );
    assert.equal(result.cleared, true, `still shown after the edit: ${JSON.stringify(result.after)}`);
    assert.deepEqual(result.after, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
