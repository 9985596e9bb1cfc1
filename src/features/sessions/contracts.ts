// Session input and output contracts (concepts §4.1) as the published docs set them:
// `PUT /v1/sessions/{id}/output-contract {schema, max_repair_attempts?}` and
// `PUT /v1/sessions/{id}/input-contract {schema}`, read back with GET, cleared with DELETE. The
// input contract is checked at ingress: a submission that is not exactly one JSON value matching
// the schema is refused (`400 sessions/input_contract_violated`) and no run is created; one that
// matches is replaced by its canonical JSON.
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ContractSchemaError,
  canonicalJson,
  compileSchema,
  extractJson,
  validate,
} from '../../engine/output-contract.ts';
import type { StoredRunRequest } from '../../engine/types.ts';
import { DaemonError } from '../../errors/daemon-error.ts';
import type { HttpApp } from '../../http/context.ts';
import { OutputContractInput, SessionParams } from './schema.ts';
import type { SessionsService } from './service.ts';

export interface InputContract {
  schema: Record<string, unknown>;
}

const Schema = z.record(z.string(), z.unknown());
export const InputContractInput = z.object({ schema: Schema }).strict();

/** The documented body is the contract itself; `{output_contract: …}` (earlier releases) still works. */
const OutputContractBody = z.union([
  OutputContractInput,
  z.object({ output_contract: OutputContractInput.nullable() }).strict(),
]);
const InputContractBody = z.union([
  InputContractInput,
  z.object({ input_contract: InputContractInput.nullable() }).strict(),
]);

/** Checks the schema subset (the same one as output contracts). */
export function normalizeInputContract(
  input: { schema: Record<string, unknown> } | null,
): InputContract | null {
  if (!input) return null;
  try {
    compileSchema(input.schema);
  } catch (err) {
    if (!(err instanceof ContractSchemaError)) throw err;
    throw new DaemonError(
      400,
      'sessions',
      'input_contract_schema_unsupported',
      err.message.replace('output contract', 'input contract'),
    );
  }
  return { schema: input.schema };
}

const violated = (detail: string) =>
  new DaemonError(
    400,
    'sessions',
    'input_contract_violated',
    `${detail}; the session's input contract wants one JSON value matching its schema (GET /v1/sessions/{id}/input-contract)`,
  );

/**
 * The request with its input checked and made canonical: `content`, or the text items of
 * `input_items` collapsed into one canonical JSON text item where the first one was. The parsed
 * value also travels in `metadata.structured_input` when the metadata is an object (or absent).
 */
export function applyInputContract(request: StoredRunRequest, contract: InputContract): StoredRunRequest {
  const items = request.input_items;
  const candidate = items?.length
    ? items
        .filter((i) => i.type === 'text')
        .map((i) => String(i.text ?? ''))
        .join('\n')
    : request.content;
  const parsed = extractJson(candidate);
  if ('error' in parsed) throw violated('$: the input is not exactly one JSON value');
  const error = validate(compileSchema(contract.schema), parsed.value);
  if (error) throw violated(error);
  const canonical = canonicalJson(parsed.value);
  const out: StoredRunRequest = { ...request };
  if (items?.length) {
    const first = items.findIndex((i) => i.type === 'text');
    out.input_items = items.flatMap((item, i) =>
      item.type !== 'text' ? [item] : i === first ? [{ type: 'text' as const, text: canonical }] : [],
    );
  } else out.content = canonical;
  const meta = request.metadata;
  if (meta === undefined || (typeof meta === 'object' && meta !== null && !Array.isArray(meta)))
    out.metadata = { ...(meta as Record<string, unknown> | undefined), structured_input: parsed.value };
  return out;
}

/** GET / POST / PUT / DELETE of both contracts. Mutations answer the SessionView, as other session settings do. */
export function registerContractRoutes(app: HttpApp, sessions: SessionsService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['sessions'];
  const url = (what: string) => `/v1/sessions/:session_id/${what}`;

  r.get(
    url('output-contract'),
    { schema: { tags, params: SessionParams } },
    async (req) => (await sessions.contracts(req.params.session_id)).output,
  );
  r.get(
    url('input-contract'),
    { schema: { tags, params: SessionParams } },
    async (req) => (await sessions.contracts(req.params.session_id)).input,
  );
  for (const method of ['POST', 'PUT'] as const) {
    r.route({
      method,
      url: url('output-contract'),
      schema: { tags, params: SessionParams, body: OutputContractBody },
      handler: async (req) => {
        const body = req.body as z.infer<typeof OutputContractBody>;
        const contract = 'output_contract' in body ? body.output_contract : body;
        return sessions.setOutputContract((req.params as { session_id: string }).session_id, contract);
      },
    });
    r.route({
      method,
      url: url('input-contract'),
      schema: { tags, params: SessionParams, body: InputContractBody },
      handler: async (req) => {
        const body = req.body as z.infer<typeof InputContractBody>;
        const contract = 'input_contract' in body ? body.input_contract : body;
        return sessions.setInputContract((req.params as { session_id: string }).session_id, contract);
      },
    });
  }
  r.delete(url('output-contract'), { schema: { tags, params: SessionParams } }, async (req) =>
    sessions.setOutputContract(req.params.session_id, null),
  );
  r.delete(url('input-contract'), { schema: { tags, params: SessionParams } }, async (req) =>
    sessions.setInputContract(req.params.session_id, null),
  );
}
