// `personas` (ops-runtime §2.11): list, create, import (Markdown), get, update, delete. Each is one
// call of /v1/personas through the SDK; binding to a session is `sessions set-persona`.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import {
  type CreatePersonaRequest,
  type PersonaSummaryView,
  PersonasResource,
  type PersonaView,
  type UpdatePersonaRequest,
} from '../sdk/personas.ts';
import { itemsOf, type JsonObject } from '../sdk/types.ts';
import { jsonInput } from './approvals.ts';
import { UsageError } from './errors.ts';
import { keyValues, oneLine, table, time } from './format.ts';
import { nonEmpty, positiveInt } from './parse.ts';
import type { CliRuntime } from './runtime.ts';

interface AuthoringFlags {
  soul?: string;
  soulFile?: string;
  stdin?: boolean;
  displayName?: string;
  metadataJson?: string;
  metadataFile?: string;
  capabilityScopeJson?: string;
  capabilityScopeFile?: string;
  defaultSkillsJson?: string;
  defaultSkillsFile?: string;
}

function authoringOptions(cmd: Command, soul: boolean): Command {
  if (soul)
    cmd
      .option('--soul <text>', 'the instruction body')
      .option('--soul-file <file>', 'the instruction body from a file')
      .option('--stdin', 'the instruction body from standard input');
  return cmd
    .option('--metadata-json <json>', 'metadata (a JSON object)')
    .option('--metadata-file <file>', 'metadata from a JSON file (- for standard input)')
    .option('--capability-scope-json <json>', 'capability baseline (skills, MCP servers and tools)')
    .option('--capability-scope-file <file>', 'capability baseline from a JSON file')
    .option('--default-skills-json <json>', 'default inline skills (a JSON array of names)')
    .option('--default-skills-file <file>', 'default inline skills from a JSON file');
}

async function soulOf(rt: CliRuntime, f: AuthoringFlags): Promise<string | undefined> {
  const given = [f.soul !== undefined, f.soulFile !== undefined, !!f.stdin].filter(Boolean).length;
  if (given > 1) throw new UsageError('give one of --soul, --soul-file or --stdin');
  if (f.soul !== undefined) return f.soul;
  if (f.stdin) return rt.io.readStdin();
  if (f.soulFile === undefined) return undefined;
  try {
    return readFileSync(f.soulFile, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --soul-file ${f.soulFile} (${(err as NodeJS.ErrnoException).code})`);
  }
}

/** The optional JSON fields shared by create, import and update (only those given). */
async function jsonFields(rt: CliRuntime, f: AuthoringFlags): Promise<UpdatePersonaRequest> {
  const out: UpdatePersonaRequest = {};
  const metadata = await jsonInput(rt, f.metadataJson, f.metadataFile, 'metadata');
  if (metadata !== undefined) out.metadata = metadata as JsonObject;
  const scope = await jsonInput(rt, f.capabilityScopeJson, f.capabilityScopeFile, 'capability-scope');
  if (scope !== undefined) out.capability_scope = scope as JsonObject;
  const skills = await jsonInput(rt, f.defaultSkillsJson, f.defaultSkillsFile, 'default-skills');
  if (skills !== undefined) {
    if (!Array.isArray(skills) || skills.some((s) => typeof s !== 'string'))
      throw new UsageError('--default-skills-json/--default-skills-file must be a JSON array of skill names');
    out.default_skills = skills as string[];
  }
  return out;
}

/** Import naming rule (concepts §4.8): --display-name, else the first Markdown heading, else the file stem. */
export function importedDisplayName(markdown: string, path: string, flag?: string): string {
  if (flag) return flag;
  const heading = markdown.split('\n').find((l) => /^#{1,6}\s+\S/.test(l));
  return heading ? heading.replace(/^#{1,6}\s+/, '').trim() : basename(path, extname(path));
}

export function renderPersona(p: PersonaView): string[] {
  const lines = keyValues([
    ['persona', p.persona_id],
    ['name', p.display_name],
    ['version', String(p.version)],
    ['updated', time(p.updated_at_ms)],
    ['skills', p.default_skills.length ? p.default_skills.join(', ') : undefined],
    ['scope', p.capability_scope ? JSON.stringify(p.capability_scope) : undefined],
    ['metadata', p.metadata ? JSON.stringify(p.metadata) : undefined],
  ]);
  return [...lines, '', p.soul];
}

const renderList = (list: PersonaSummaryView[]) =>
  list.length === 0
    ? ['no personas']
    : table(
        ['PERSONA', 'VERSION', 'UPDATED', 'NAME'],
        list.map((p) => [
          p.persona_id,
          String(p.version),
          time(p.updated_at_ms) ?? '-',
          oneLine(p.display_name, 60),
        ]),
      );

export function registerPersonas(program: Command, rt: CliRuntime): void {
  const personas = program
    .command('personas')
    .alias('persona')
    .description('reusable identities (soul, capability baseline, default skills) sessions can bind');
  const api = () => new PersonasResource(rt.client());

  personas
    .command('list')
    .description('list personas (legacy array; --page or --cursor for the paginated envelope)')
    .option('--query <text>', 'only personas whose id or display name contain it')
    .option('--page', 'return the paginated envelope')
    .option('--limit <n>', 'at most n personas (max 100)', positiveInt)
    .option('--cursor <cursor>', 'continue after this page cursor')
    .action(async (f: { query?: string; page?: boolean; limit?: number; cursor?: string }) => {
      const result = await api().list({ query: f.query, page: f.page, limit: f.limit, cursor: f.cursor });
      rt.emit(result, (r) => renderList(itemsOf(r)));
    });

  authoringOptions(
    personas
      .command('create')
      .description('create a persona (version 1)')
      .argument('<display_name>')
      .option('--persona-id <id>', 'id to use (generated by the daemon when omitted)', nonEmpty),
    true,
  ).action(async (displayName: string, f: AuthoringFlags & { personaId?: string }) => {
    const body: CreatePersonaRequest = {
      display_name: displayName,
      soul: (await soulOf(rt, f)) ?? '',
      ...(await jsonFields(rt, f)),
    };
    if (f.personaId) body.persona_id = f.personaId;
    rt.emit(await api().create(body), renderPersona);
  });

  authoringOptions(
    personas
      .command('import')
      .description('create a persona from a Markdown file (the whole file is the soul)')
      .argument('<markdown_path>')
      .option('--persona-id <id>', 'id to use (generated by the daemon when omitted)', nonEmpty)
      .option('--display-name <name>', 'overrides the first heading / file stem', nonEmpty),
    false,
  ).action(async (path: string, f: AuthoringFlags & { personaId?: string }) => {
    if (!['.md', '.markdown'].includes(extname(path).toLowerCase()))
      throw new UsageError(`personas import reads .md or .markdown files, not ${basename(path)}`);
    let soul: string;
    try {
      soul = readFileSync(path, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code})`);
    }
    const body: CreatePersonaRequest = {
      display_name: importedDisplayName(soul, path, f.displayName),
      soul,
      ...(await jsonFields(rt, f)),
    };
    if (f.personaId) body.persona_id = f.personaId;
    rt.emit(await api().create(body), renderPersona);
  });

  personas
    .command('get')
    .alias('show')
    .description('show the latest record of a persona, soul included')
    .argument('<persona_id>')
    .action(async (id: string) => rt.emit(await api().get(id), renderPersona));

  authoringOptions(
    personas
      .command('update')
      .description('replace fields of a persona (new version); bound sessions keep their snapshot')
      .argument('<persona_id>')
      .option('--display-name <name>', 'new display name', nonEmpty),
    true,
  ).action(async (id: string, f: AuthoringFlags) => {
    const body: UpdatePersonaRequest = { ...(await jsonFields(rt, f)) };
    const soul = await soulOf(rt, f);
    if (soul !== undefined) body.soul = soul;
    if (f.displayName) body.display_name = f.displayName;
    if (Object.keys(body).length === 0)
      throw new UsageError(
        'nothing to update',
        'pass --soul/--soul-file/--stdin, --display-name or a JSON field',
      );
    rt.emit(await api().update(id, body), renderPersona);
  });

  personas
    .command('delete')
    .description('delete a persona record; sessions bound to it keep their snapshot')
    .argument('<persona_id>')
    .action(async (id: string) => rt.emit(await api().delete(id), () => [`persona ${id} deleted`]));
}
