// One wrapper for the daemon's control tools (tasks, schedules, agents, mailboxes): validate the
// arguments with the tool's zod schema, run, and turn every failure into an error result the model
// can read. A cancelled call rethrows so the engine records the cancellation, not a tool error.
import type { z } from 'zod';
import { z as zod } from 'zod';
import type { ToolContext, ToolDefinition, ToolResult } from '../registry.ts';

/** A failure as the model should read it: `domain/code: detail` for daemon errors, else the message. */
export function controlErrorText(err: unknown): string {
  const e = err as { code?: string; domain?: string; detail?: string; message?: string };
  if (e.code && e.detail) return `${e.domain ? `${e.domain}/` : ''}${e.code}: ${e.detail}`;
  return String(e.message ?? err);
}

export function defineControlTool<S extends z.ZodType>(
  name: string,
  description: string,
  schema: S,
  sideEffects: boolean,
  run: (input: z.infer<S>, ctx: ToolContext) => Promise<unknown>,
): ToolDefinition {
  return {
    name,
    description,
    input_schema: zod.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>,
    side_effects: sideEffects,
    async execute(args, ctx): Promise<ToolResult> {
      const parsed = schema.safeParse(args ?? {});
      if (!parsed.success) {
        const issues = parsed.error.issues
          .map((i) => `${i.path.length ? i.path.join('.') : 'arguments'}: ${i.message}`)
          .join('; ');
        return { content: `${name}: invalid arguments (${issues})`, is_error: true };
      }
      try {
        return { content: JSON.stringify(await run(parsed.data, ctx)), is_error: false };
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        return { content: `${name}: ${controlErrorText(err)}`, is_error: true };
      }
    },
  };
}
