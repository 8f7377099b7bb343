/**
 * "Is this a probe run" is one rule written twice, as a predicate for configs in hand and as SQL for library
 * queries: both must say the same for every kind of config a run can have stored.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { isProbeRun, isProbeRunSql } from '../../main/train/config.js';

const configs: Record<string, unknown>[] = [
  { purpose: 'probe', name: 'transfer probe' },
  { purpose: 'probe', name: 'my run' },
  { name: 'transfer probe' }, // recorded before `purpose` existed
  { purpose: 'task', name: 'transfer probe' },
  { purpose: 'task', name: 'cb' },
  { name: 'Transfer probe' },
  { purpose: 'probes' },
  {},
];

describe('the probe-run rule', () => {
  it('says the same in SQL as in TypeScript', () => {
    const db = new Database(':memory:');
    try {
      const inSql = db.prepare(`WITH r(config) AS (SELECT ?) SELECT ${isProbeRunSql('r.config')} IS 1 AS probe FROM r`);
      const verdicts = configs.map((c) => ({ ts: isProbeRun(c), sql: (inSql.get(JSON.stringify(c)) as { probe: number }).probe === 1 }));
      expect(verdicts.map((v) => v.sql)).toEqual(verdicts.map((v) => v.ts));
      expect(verdicts.map((v) => v.ts)).toEqual([true, true, true, true, false, false, false, false]);
    } finally {
      db.close();
    }
  });
});
