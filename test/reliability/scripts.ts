// The scripted-model workloads of the reliability harness, with what each one must produce when it
// completes. A run's input text names its kind ("kind:text #12"), so the script rule and the
// expected outputs follow from the input alone, also after any number of restarts.
const CALL = { tool_calls: [{ name: 'reliability_probe', arguments: { n: 1 } }] };
const TOO_MANY = { error: { status: 429, retry_after_ms: 0 } };

export interface Kind {
  turns: unknown[];
  /** Outputs of a run that completed (no output twice, none missing). */
  outputs: string[];
  /** Its first model call never answers: the harness cancels it, or a route timeout retries it. */
  hangs?: boolean;
}

export const KINDS = {
  text: { turns: [{ text: 'plain answer' }], outputs: ['plain answer'] },
  tools: { turns: [CALL, CALL, CALL, { text: 'tools done' }], outputs: ['tools done'] },
  talk: {
    turns: [{ ...CALL, text: 'looking' }, { ...CALL, text: 'still looking' }, { text: 'found it' }],
    outputs: ['looking', 'still looking', 'found it'],
  },
  slow: { turns: [{ delay_ms: 120, text: 'slow done' }], outputs: ['slow done'] },
  slowtools: {
    turns: [CALL, { delay_ms: 80, ...CALL }, { delay_ms: 80, text: 'stepped' }],
    outputs: ['stepped'],
  },
  flaky: { turns: [TOO_MANY, { text: 'recovered' }], outputs: ['recovered'] },
  flakytools: {
    turns: [CALL, TOO_MANY, TOO_MANY, CALL, { text: 'recovered twice' }],
    outputs: ['recovered twice'],
  },
  hang: { turns: [{ hang: true }, { text: 'after timeout' }], outputs: ['after timeout'], hangs: true },
} satisfies Record<string, Kind>;

export type KindName = keyof typeof KINDS;
export const KIND_NAMES = Object.keys(KINDS) as KindName[];

export const SCRIPT = {
  rules: KIND_NAMES.map((k) => ({ match: `^kind:${k} `, turns: KINDS[k].turns })),
  default: { turns: [{ text: 'default answer' }] },
};

export const inputFor = (kind: KindName, n: number | string) => `kind:${kind} #${n}`;

export function kindOf(input: string | undefined): KindName | null {
  const m = /^kind:(\w+) /.exec(input ?? '');
  return m && m[1]! in KINDS ? (m[1] as KindName) : null;
}
