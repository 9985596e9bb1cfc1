// Startup (api-collab §4.6 durability): the records are reloaded, a skill whose source learning
// ended while the daemon was down (or between a crash and its listener) is revoked, missing or
// drifted skill files are rewritten from the record, and the active ones are mounted. A discovered
// skill of the same name is never taken for the promoted one: that record stays unmounted, with a
// warning (decision 527).
import type { Logger } from 'pino';
import { getLearningSkill, listLearningSkills } from '../../store/repos/learning-skills.ts';
import { learningIsLive } from './learning-source.ts';
import type { LearningSkillsService } from './service.ts';

export interface RepairReport {
  records: number;
  revoked: number;
  repaired: number;
  shadowed: string[];
  at_ms: number;
}

export async function repairLearningSkills(svc: LearningSkillsService, log: Logger): Promise<RepairReport> {
  const { store, root, mounted, discovered } = svc.deps;
  const source = svc.deps.learnings();
  const report: RepairReport = { records: 0, revoked: 0, repaired: 0, shadowed: [], at_ms: Date.now() };
  for (const row of await listLearningSkills(store.db)) {
    report.records += 1;
    if (row.status === 'revoked') {
      root.remove(row.skill_name);
      continue;
    }
    // Without the learnings feature nothing can be checked; the records keep their status.
    const l = source ? await source.getLearning(row.source_learning_id) : null;
    if (source && !learningIsLive(l)) {
      const ended = await store.write(async (tx) => {
        const fresh = await getLearningSkill(tx.db, row.skill_name);
        if (!fresh || fresh.status === 'revoked') return false;
        await svc.learningEnded(tx, { learning_id: row.source_learning_id, status: l?.status ?? 'missing' });
        return true;
      });
      if (ended) {
        report.revoked += 1;
        continue;
      }
    }
    const loaded = root.load(row.skill_name);
    if (!loaded.ok || loaded.fingerprint !== row.definition_fingerprint) {
      const why = loaded.ok ? 'the skill file differed from the durable record' : loaded.why;
      await svc.markRepaired(row.skill_name, why);
      report.repaired += 1;
      log.warn({ skill: row.skill_name }, `promoted skill rewritten from its record: ${why}`);
    }
    if (row.status === 'active' && discovered(row.skill_name)) {
      report.shadowed.push(row.skill_name);
      log.warn(
        { skill: row.skill_name },
        'a discovered skill has the name of an active promoted skill; the promoted one stays unmounted',
      );
    }
    const fresh = await getLearningSkill(store.db, row.skill_name);
    if (fresh?.status === 'active') {
      const why = mounted.mount(fresh.skill_name, fresh.definition_fingerprint);
      if (why) log.warn({ skill: fresh.skill_name }, `promoted skill not mounted: ${why}`);
    }
  }
  return report;
}
