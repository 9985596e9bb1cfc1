// One readable line per step of a run, from its `trace` events (docs/events.md): what `runs watch`
// prints live and `runs events` lists afterwards. Approvals and questions add the exact command
// that answers them.
import { arr, duration, num, obj, oneLine, scalar, str } from './format.ts';

type Trace = Record<string, unknown>;

const ARG_VALUE_MAX = 40;
const ARGS_MAX = 100;

/** `path=a.txt content="two words"`: each value short, the whole bounded. */
export function shortArgs(args: unknown): string {
  const o = obj(args);
  if (!o) return args === undefined ? '' : scalar(args, ARGS_MAX);
  const parts = Object.entries(o).map(([k, v]) => {
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    const shown = oneLine(text ?? 'null', ARG_VALUE_MAX);
    return `${k}=${typeof v === 'string' && /[\s"=]|^$/.test(shown) ? JSON.stringify(shown) : shown}`;
  });
  return oneLine(parts.join(' '), ARGS_MAX);
}

const bytes = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`;

const took = (t: Trace): string => {
  const ms = num(t.duration_ms);
  return ms === undefined ? '' : duration(ms);
};

function tokens(t: Trace): string {
  const usage = obj(t.usage);
  if (!usage) return '';
  return `${scalar(usage.input_tokens)} in / ${scalar(usage.output_tokens)} out tokens`;
}

/** The tool line: `read_file path=a.txt → ok, 12 B, 3ms`; `args` from the call's start trace. */
export function toolLine(t: Trace, args: unknown): string {
  const call = `${scalar(t.name)}${args === undefined ? '' : ` ${shortArgs(args)}`}`.trimEnd();
  const outcome = str(t.outcome) ?? '?';
  const preview = oneLine(str(t.output_preview) ?? '', 80);
  const detail =
    outcome === 'ok'
      ? [bytes(num(t.output_bytes) ?? 0), t.ran === false ? 'from the operator' : took(t)]
      : [preview || undefined, t.ran === false ? undefined : took(t)];
  const tail = detail.filter(Boolean).join(', ');
  return `· ${call} → ${outcome}${tail ? `${outcome === 'ok' ? ', ' : ': '}${tail}` : ''}`;
}

export interface StepContext {
  session_id: string;
  run_id: string;
  /** Arguments of started calls, by tool call id (a finished call's line shows them). */
  args: Map<string, unknown>;
}

/**
 * The lines one trace prints, or [] for traces that add nothing to a step line (a permission
 * allow, a call's start: its end prints the line). Text deltas are not handled here.
 */
export function stepLines(t: Trace, ctx: StepContext): string[] {
  const kind = str(t.kind) ?? 'trace';
  switch (kind) {
    case 'model_turn_started':
    case 'assistant_text_delta':
      return [];
    case 'model_turn_finished': {
      const calls = arr(t.tool_calls).map((c) => scalar(c));
      const what =
        calls.length > 0 ? `asks for ${calls.join(', ')}` : `answered (${scalar(t.finish_reason)})`;
      const meta = [tokens(t), took(t)].filter(Boolean).join(', ');
      return [`· model ${scalar(t.route_id)}/${scalar(t.model)}: ${what}${meta ? ` (${meta})` : ''}`];
    }
    case 'model_retry':
      return [
        `· model call failed (${scalar(t.status)}: ${oneLine(str(t.message) ?? '', 80)}); retry ${scalar(t.attempt)} in ${duration(num(t.delay_ms) ?? 0)}`,
      ];
    case 'model_error':
      return [`· model call failed on route ${scalar(t.route_id)}: ${oneLine(str(t.message) ?? '', 100)}`];
    case 'route_fallback':
      return [
        `· falling back to route ${scalar(t.route_id)} (${scalar(t.model)}): ${oneLine(str(t.reason) ?? '', 80)}`,
      ];
    case 'context_compacted':
      return [`· context compacted: ${scalar(t.messages_summarised)} messages summarised (${took(t)})`];
    case 'permission_decided':
      // allow shows as the tool line, ask as the approval, deny as the denied tool line.
      return [];
    case 'tool_call_started': {
      const id = str(t.tool_call_id);
      if (id) ctx.args.set(id, t.arguments);
      return [];
    }
    case 'tool_call_finished':
      return [toolLine(t, ctx.args.get(str(t.tool_call_id) ?? ''))];
    case 'approval_requested': {
      const id = scalar(t.request_id);
      return [
        `· approval needed: ${scalar(t.name)} ${shortArgs(t.arguments)} (${scalar(t.reason)})`.replace(
          '  (',
          ' (',
        ),
        `  allow with: kheish-daemon approvals allow ${ctx.session_id} ${id}`,
        `  deny with:  kheish-daemon approvals deny ${ctx.session_id} ${id}`,
      ];
    }
    case 'approval_resolved': {
      const why = str(t.reason) ?? str(t.justification);
      const verb = t.behavior === 'allow' ? 'allowed' : 'denied';
      return [`· approval ${verb}: ${scalar(t.name)}${why ? ` (${oneLine(why, 80)})` : ''}`];
    }
    case 'question_asked': {
      const qs = arr(t.questions).map((q) => {
        const o = obj(q) ?? {};
        const options = arr(o.options).map((x) => `${scalar(obj(x)?.id)}=${scalar(obj(x)?.label)}`);
        return `${scalar(o.question)}${options.length ? ` [${options.join(', ')}]` : ''}`;
      });
      const id = scalar(t.request_id);
      return [
        `· question: ${oneLine(qs.join(' / '), 160)}`,
        `  answer with: kheish-daemon questions answer ${id} --run-id ${ctx.run_id} --interactive`,
        `  decline with: kheish-daemon questions answer ${id} --run-id ${ctx.run_id} --declined`,
      ];
    }
    case 'question_resolved': {
      const answers = arr(t.answers).map((a) => {
        const o = obj(a) ?? {};
        const picked = [...arr(o.selected_option_ids).map((x) => scalar(x)), str(o.freeform_answer)].filter(
          Boolean,
        );
        return `${scalar(o.question_id)}=${picked.join('+')}`;
      });
      return [
        `· question ${scalar(t.status)}${answers.length ? `: ${oneLine(answers.join(', '), 100)}` : ''}`,
      ];
    }
    case 'run_resumed_after_restart':
      return ['· the daemon restarted; the run resumes from its last completed step'];
    case 'run_taken_over':
      return [`· replica ${scalar(t.replica)} took the run over from ${scalar(t.from_replica)}`];
    case 'sidechain_spawned':
      return [
        `· spawned child agent ${scalar(t.agent_id)} (${scalar(t.profile)}, session ${scalar(t.child_session_id)})`,
      ];
    default: {
      const message = str(t.message);
      const name = str(t.name) ?? str(t.tool_name);
      return [`· ${kind}${name ? ` ${name}` : ''}${message ? `: ${oneLine(message, 100)}` : ''}`];
    }
  }
}

/** One trace as a `runs events` cell: its kind and what it says (commands left out: history). */
export function traceSummary(t: Trace, ctx: StepContext): string {
  const kind = str(t.kind) ?? 'trace';
  let detail: string;
  if (kind === 'permission_decided') {
    const rule = str(t.matched_rule) ? `rule ${scalar(t.matched_rule)}, ` : '';
    detail = `${scalar(t.name)}: ${scalar(t.decision)} (${rule}${scalar(t.mode)} mode)`;
  } else if (kind === 'tool_call_started') {
    stepLines(t, ctx);
    detail = `${scalar(t.name)} ${shortArgs(t.arguments)}`.trimEnd();
  } else detail = (stepLines(t, ctx)[0] ?? '').replace(/^· /, '');
  return detail ? `${kind}  ${detail}` : kind;
}
