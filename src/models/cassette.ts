// Cassette recording: with `serve --record-cassette DIR`, every model call's outcome is written,
// in order, as a scripted-driver script (`DIR/<run_id>.<route_id>.json`). Pointing a scripted
// route's `script_file` at that file replays the run offline, call for call.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelCallError, type ModelDriver, type ModelRequest, type ModelResponse } from './driver.ts';
import type { ScriptTurn } from './drivers/scripted.ts';

const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');

export function recordingDriver(inner: ModelDriver, routeId: string, dir: string): ModelDriver {
  const write = async (req: ModelRequest, turn: ScriptTurn) => {
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${safe(req.run_id)}.${safe(routeId)}.json`);
    const script = await readFile(file, 'utf8')
      .then(
        (t) => JSON.parse(t) as { default: { turns: ScriptTurn[] }; recorded_from: Record<string, unknown> },
      )
      .catch(() => ({
        recorded_from: { route_id: routeId, driver: inner.name, model: req.model },
        default: { turns: [] as ScriptTurn[] },
      }));
    script.default.turns[req.call_index] = turn;
    // Write-then-rename: a crash never leaves a half-written cassette behind.
    await writeFile(`${file}.tmp`, JSON.stringify(script, null, 2));
    await rename(`${file}.tmp`, file);
  };
  return {
    name: inner.name,
    async call(req: ModelRequest): Promise<ModelResponse> {
      if (req.purpose === 'compaction') return inner.call(req);
      try {
        const res = await inner.call(req);
        const turn: ScriptTurn = {
          text: res.text,
          usage: { input_tokens: res.usage.input_tokens, output_tokens: res.usage.output_tokens },
        };
        if (res.tool_calls.length) turn.tool_calls = res.tool_calls;
        await write(req, turn);
        return res;
      } catch (err) {
        if (err instanceof ModelCallError)
          await write(req, {
            error: { status: err.status ?? 500, message: err.message, retry_after_ms: err.retryAfterMs ?? 0 },
          });
        throw err;
      }
    },
  };
}
