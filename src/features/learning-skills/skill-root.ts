// The daemon-owned skill root (<state_root>/skills, ops-runtime §9): one directory per promoted
// skill, written from the durable record (the authority) and read back through the normal skill
// loader. Writes are atomic (temp file, fsync, rename) so a crash leaves the old or the new file.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseSkill, SKILL_FILE, type SkillDefinition } from '../skills/port.ts';
import { definitionOfLoaded, fingerprintOf, type ProcedureDefinition, renderFiles } from './definition.ts';

function writeAtomic(path: string, text: string): void {
  // A dotfile: the skill digest skips it, so a crash mid-write leaves no stray digest input.
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export type Loaded =
  | { ok: true; skill: SkillDefinition; fingerprint: string }
  | { ok: false; why: string; skill?: SkillDefinition };

export class DaemonSkillRoot {
  /** <state_root>/skills */
  readonly path: string;

  constructor(stateRoot: string) {
    this.path = join(stateRoot, 'skills');
  }

  /** The skill's directory: names are `[A-Za-z0-9:_-]+`, so one safe path segment. */
  dirOf(name: string): string {
    return join(this.path, name);
  }

  fileOf(name: string): string {
    return join(this.dirOf(name), SKILL_FILE);
  }

  write(d: ProcedureDefinition): void {
    const dir = this.dirOf(d.name);
    mkdirSync(join(dir, 'agents'), { recursive: true });
    const files = renderFiles(d);
    writeAtomic(join(dir, 'agents', 'kheish.yaml'), files.runtime);
    writeAtomic(join(dir, SKILL_FILE), files.skill);
  }

  remove(name: string): void {
    rmSync(this.dirOf(name), { recursive: true, force: true });
  }

  /** The skill as the loader reads it now, with the fingerprint of the definition it stands for. */
  load(name: string): Loaded {
    const file = this.fileOf(name);
    if (!existsSync(file)) return { ok: false, why: 'the skill file is missing' };
    let skill: SkillDefinition;
    try {
      skill = parseSkill(file, this.dirOf(name), this.path, 'daemon');
    } catch (err) {
      return { ok: false, why: `the skill file does not load: ${(err as Error).message}` };
    }
    if (skill.name !== name) return { ok: false, why: `the skill file names ${skill.name}`, skill };
    const def = definitionOfLoaded(skill);
    if (!def)
      return { ok: false, why: 'the skill file is not a fork skill with the verification profile', skill };
    return { ok: true, skill, fingerprint: fingerprintOf(def) };
  }
}
