// One tool-free model call through the route inventory, for the judge and semantic extraction:
// the same driver path as a run's turn (AI SDK drivers, scripted routes in tests), with the
// credential broker's daemon check, a timeout and the caller's AbortSignal.
import type { Engine } from '../../engine/engine.ts';

/** Default timeout of a judge or extraction call when the policy gives none. */
export const DEFAULT_MODEL_TIMEOUT_MS = 30_000;

export interface ModelAsk {
  /** `route`, `route/model`, or a model name on the default route; null = the default route. */
  model: string | null;
  timeout_ms: number | null;
  system: string;
  user: string;
  /** Names the call in drivers' logs (`learning-judge-<candidate>`). */
  tag: string;
  signal: AbortSignal;
}

export type ModelCaller = (ask: ModelAsk) => Promise<string>;

/** `route/model` when `route` is configured, `route` alone, else a model on the default route. */
export function selectRoute(engine: Engine, model: string | null): { provider?: string; model?: string } {
  if (model === null) return {};
  const slash = model.indexOf('/');
  if (slash > 0 && engine.routes.get(model.slice(0, slash)))
    return { provider: model.slice(0, slash), model: model.slice(slash + 1) };
  if (engine.routes.get(model)) return { provider: model };
  return { model };
}

export function engineModelCaller(engine: Engine): ModelCaller {
  return async (ask) => {
    const r = engine.routes.resolve(selectRoute(engine, ask.model), null);
    const refused = await engine.credentialGate?.authorizeDaemonRoute(r.route_id);
    if (refused) throw new Error(`route ${r.route_id} refused: ${refused.message}`);
    const driver = engine.routes.driverFor(r.route_id);
    const signal = AbortSignal.any([
      ask.signal,
      AbortSignal.timeout(ask.timeout_ms ?? DEFAULT_MODEL_TIMEOUT_MS),
    ]);
    const res = await driver.call({
      run_id: ask.tag,
      model: r.model,
      messages: [
        { role: 'system', content: ask.system },
        { role: 'user', content: ask.user },
      ],
      input_text: ask.user,
      call_index: 0,
      tools: [],
      signal,
      onTextDelta: () => undefined,
      generation: { tool_choice: 'none' },
      purpose: 'turn',
    });
    return res.text;
  };
}

/** The first JSON object or array of a model answer (fenced or bare). */
export function jsonOf(text: string): unknown {
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  const body = fenced ? fenced[1]! : text;
  const starts = [body.indexOf('{'), body.indexOf('[')].filter((i) => i >= 0);
  if (!starts.length) throw new Error('the model answered no JSON');
  const start = Math.min(...starts);
  const end = Math.max(body.lastIndexOf('}'), body.lastIndexOf(']'));
  return JSON.parse(body.slice(start, end + 1));
}
