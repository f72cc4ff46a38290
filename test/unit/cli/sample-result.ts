/** A hand-built AnalysisResult for format tests that must not depend on the engine. */
import type { AnalysisResult } from '../../../src/engine/types';

export function sampleResult(): AnalysisResult {
  return {
    findings: [
      {
        ruleId: 'unmap-before-rollback',
        severity: 'warning',
        confidence: 'high',
        message: "`demo_detach()` unmaps the driver's pages (line 30) before `iopt_add_access()` can fail (line 34)",
        file: 'drivers/demo/demo access.c',
        line: 34,
        column: 8,
        function: 'demo_change_ioas',
        fingerprint: 'unmap-before-rollback:demo_change_ioas:demo_detach>iopt_add_access',
        related: [
          { file: 'drivers/demo/demo access.c', line: 30, message: 'irreversible: the driver drops its pins' },
          { file: 'drivers/demo/demo access.c', line: 38, message: 'error path tries to re-attach' },
        ],
        scenario: {
          variant: 'from-source',
          file: 'drivers/demo/demo access.c',
          function: 'demo_change_ioas',
          threads: ['replacer'],
          faults: ['add-access'],
          contract: 'status-quo',
          invariant: 'status-quo',
        },
      },
      {
        ruleId: 'lock-order',
        severity: 'error',
        confidence: 'medium',
        message: '`a.x` → `b.y` here, but `b.y` → `a.x` at line 12: possible ABBA deadlock',
        file: '/abs/path/lock.c',
        line: 5,
        column: 2,
        function: 'take_ab',
        fingerprint: 'lock-order:a.x>b.y',
        related: [],
        scenario: { variant: 'merged', threads: ['replacer', 'driver'], faults: [], contract: 'usable' },
      },
    ],
    lockGraph: {
      edges: [
        {
          from: 'iommufd_access.ioas_lock',
          to: 'io_pagetable.iova_rwsem',
          sites: [
            { file: 'drivers/demo/demo access.c', line: 31 },
            { file: 'x.c', line: 2 },
          ],
        },
      ],
    },
    coverage: {
      files: 2,
      functions: { parsed: 3, partial: 1, skipped: 1 },
      entries: [
        { file: 'x.c', function: 'a', line: 1, status: 'parsed' },
        { file: 'x.c', function: 'b', line: 10, status: 'partial', reason: 'syntax error at line 12' },
        { file: 'x.c', function: 'c', line: 20, status: 'skipped', reason: 'parse timed out' },
      ],
      problems: [{ file: 'blob.c', message: 'skipped: binary file (contains NUL bytes)' }],
    },
  };
}

export function emptyResult(): AnalysisResult {
  return {
    findings: [],
    lockGraph: { edges: [] },
    coverage: { files: 1, functions: { parsed: 2, partial: 0, skipped: 0 }, entries: [], problems: [] },
  };
}
