// First launch, in the quickstart's four steps: pick a model provider (key → the daemon's encrypted
// store), optional MCP servers, optional write-only secrets, then an agent template that creates a persona, a session, the binding and (for the daily digest)
// a schedule, and lands in the chat. The shell skips it when the daemon has routes and sessions.
import { useState } from 'preact/hooks';
import { addMcpServer, addProviderRoute, type McpCard } from '../adapters/runtime-setup.ts';
import { describe } from '../api.ts';
import { fieldErrors } from '../field-errors.ts';
import { go } from '../router.ts';
import { describedBy, ErrorNote, Field, Loading, PageHeader, useApp, useLoad } from '../ui.tsx';
import { SecretsStep } from './wizard-secrets.tsx';

interface Provider {
  /** Also the route id the wizard adds. */
  id: string;
  name: string;
  driver: string;
  model: string;
  needsKey: boolean;
  /** The default address of a self-hosted server; the card then shows a field to change it. */
  baseUrl?: string;
}

export const PROVIDERS: Provider[] = [
  { id: 'anthropic', name: 'Anthropic', driver: 'anthropic', model: 'claude-sonnet-4-6', needsKey: true },
  { id: 'openai', name: 'OpenAI', driver: 'openai', model: 'gpt-5.4-mini', needsKey: true },
  { id: 'google', name: 'Google Gemini', driver: 'google', model: 'gemini-2.5-flash', needsKey: true },
  { id: 'xai', name: 'xAI', driver: 'xai', model: 'grok-4-fast-reasoning', needsKey: true },
  {
    id: 'openrouter',
    name: 'OpenRouter',
    driver: 'openrouter',
    model: 'openai/gpt-5.4-mini',
    needsKey: true,
  },
  {
    id: 'ollama',
    name: 'Ollama (local)',
    driver: 'openai_compatible',
    model: 'llama3.2',
    needsKey: false,
    baseUrl: 'http://127.0.0.1:11434/v1',
  },
];

const MCP_CARDS: (McpCard & { title: string; about: string })[] = [
  {
    name: 'filesystem',
    title: 'Files',
    about: 'Read and write files in one folder',
    command: 'npx',
    args: ['-y', '@modelcontextprotocol/server-filesystem', '.'],
  },
  {
    name: 'memory',
    title: 'Notes graph',
    about: 'Keep facts between conversations',
    command: 'npx',
    args: ['-y', '@modelcontextprotocol/server-memory'],
  },
];

interface Template {
  id: string;
  name: string;
  about: string;
  soul: string;
  digest?: boolean;
}

const TEMPLATES: Template[] = [
  {
    id: 'assistant',
    name: 'Assistant',
    about: 'A general helper you chat with.',
    soul: 'You are a careful, concise assistant. Ask before doing anything with side effects.',
  },
  {
    id: 'digest',
    name: 'Daily digest',
    about: 'Writes a short digest every morning at 08:00.',
    soul: 'Each morning you write a short digest of what changed and what needs attention.',
    digest: true,
  },
];

export function WizardPage() {
  const routes = useLoad((k) => k.runtime.routes());
  const [step, setStep] = useState(0);
  return (
    <section class="wizard">
      <PageHeader title="Welcome to Kheish Air">
        <button type="button" class="link" onClick={() => go('chat')}>
          Skip setup
        </button>
      </PageHeader>
      <ol class="wizard-steps" aria-label="Setup steps">
        {['Model', 'Tools', 'Secrets', 'First agent'].map((s, i) => (
          <li key={s} aria-current={i === step ? 'step' : undefined}>
            {s}
          </li>
        ))}
      </ol>
      {step === 0 && <ProviderStep existing={(routes.data ?? []).length} onNext={() => setStep(1)} />}
      {step === 1 && <McpStep onNext={() => setStep(2)} />}
      {step === 2 && <SecretsStep onNext={() => setStep(3)} />}
      {step === 3 && <TemplateStep />}
    </section>
  );
}

function ProviderStep(props: { existing: number; onNext(): void }) {
  const { client } = useApp();
  const [picked, setPicked] = useState<Provider>(PROVIDERS[0]!);
  const [key, setKey] = useState('');
  const [model, setModel] = useState(PROVIDERS[0]!.model);
  const [baseUrl, setBaseUrl] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const pick = (p: Provider) => {
    setPicked(p);
    setModel(p.model);
    setBaseUrl(p.baseUrl ?? '');
    setErrors({});
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    if (picked.needsKey && !key.trim()) return setErrors({ key: 'the API key is empty' });
    if (!model.trim()) return setErrors({ model: 'the model is empty' });
    if (picked.baseUrl && !baseUrl.trim()) return setErrors({ baseUrl: 'the base URL is empty' });
    setBusy(true);
    try {
      await addProviderRoute(client, {
        routeId: picked.id,
        provider: picked.driver,
        model: model.trim(),
        apiKey: picked.needsKey ? key.trim() : undefined,
        baseUrl: picked.baseUrl ? baseUrl.trim() : undefined,
      });
      setKey('');
      props.onNext();
    } catch (err) {
      setErrors(
        fieldErrors(err, {
          baseUrl: ['base_url', 'base url'],
          key: ['api_key', 'api key', 'secret', 'master key'],
          model: ['model'],
          form: ['route'],
        }),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form" onSubmit={submit} aria-label="Model provider">
      <h2>Choose a model provider</h2>
      <div class="cards" role="radiogroup" aria-label="Providers">
        {PROVIDERS.map((p) => (
          <label key={p.id} class={`card pick${p.id === picked.id ? ' picked' : ''}`}>
            <input
              type="radio"
              name="provider"
              value={p.id}
              checked={p.id === picked.id}
              onChange={() => pick(p)}
            />
            <strong>{p.name}</strong>
            <small class="muted">{p.model}</small>
          </label>
        ))}
      </div>
      <Field id="route-model" label="Model" error={errors.model}>
        <input
          {...describedBy('route-model', errors.model)}
          value={model}
          onInput={(e) => setModel(e.currentTarget.value)}
        />
      </Field>
      {picked.baseUrl && (
        <Field
          id="route-base-url"
          label="Base URL"
          error={errors.baseUrl}
          hint="The server's OpenAI-compatible address, as the daemon's machine reaches it"
        >
          <input
            {...describedBy('route-base-url', errors.baseUrl)}
            inputMode="url"
            spellcheck={false}
            value={baseUrl}
            onInput={(e) => setBaseUrl(e.currentTarget.value)}
          />
        </Field>
      )}
      {picked.needsKey && (
        <Field
          id="route-key"
          label={`${picked.name} API key`}
          error={errors.key}
          hint="Write-only: stored encrypted by the daemon, never shown again"
        >
          <input
            {...describedBy('route-key', errors.key)}
            type="password"
            autoComplete="off"
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
          />
        </Field>
      )}
      {errors.form && <ErrorNote error={new Error(errors.form)} />}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Save and continue
        </button>
        {props.existing > 0 && (
          <button type="button" onClick={props.onNext}>
            Keep the {props.existing} configured route{props.existing === 1 ? '' : 's'}
          </button>
        )}
      </div>
    </form>
  );
}

function McpStep(props: { onNext(): void }) {
  const { client } = useApp();
  const [added, setAdded] = useState<string[]>([]);
  const [busy, setBusy] = useState<string>();
  const [error, setError] = useState<Record<string, string>>({});
  const add = async (card: McpCard) => {
    setBusy(card.name);
    setError({ ...error, [card.name]: '' });
    try {
      await addMcpServer(client, card);
      setAdded([...added, card.name]);
    } catch (err) {
      // Said as the daemon says it (a read-only token, a server that would not start, ...).
      setError({ ...error, [card.name]: `could not add it: ${describe(err)}` });
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <div class="form">
      <h2>Give it tools (optional)</h2>
      <p class="muted">Each card starts an MCP server on the daemon's machine; its tools are live at once.</p>
      <div class="cards">
        {MCP_CARDS.map((c) => (
          <div key={c.name} class="card">
            <strong>{c.title}</strong>
            <p class="muted">{c.about}</p>
            {added.includes(c.name) ? (
              <span class="ok">Added</span>
            ) : busy === c.name ? (
              <Loading label="Starting…" />
            ) : (
              <button type="button" onClick={() => add(c)}>
                Add {c.title}
              </button>
            )}
            {error[c.name] && (
              <p class="field-error" role="alert">
                {error[c.name]}
              </p>
            )}
          </div>
        ))}
      </div>
      <div class="actions">
        <button type="button" class="primary" onClick={props.onNext}>
          Continue
        </button>
      </div>
    </div>
  );
}

function TemplateStep() {
  const { client } = useApp();
  const [picked, setPicked] = useState<Template>(TEMPLATES[0]!);
  const [sessionId, setSessionId] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const create = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setBusy(true);
    try {
      const persona = await client.personas.create({ display_name: picked.name, soul: picked.soul });
      const session = await client.sessions.create({
        ...(sessionId.trim() ? { session_id: sessionId.trim() } : {}),
        persona_id: persona.persona_id,
      });
      if (picked.digest) {
        await client.schedules.create({
          name: `${picked.name} (${session.session_id})`,
          target_session_id: session.session_id,
          cadence: { type: 'cron', expression: '0 0 8 * * *' },
          request: { content: 'Write today’s digest.' },
        });
      }
      go('chat', session.session_id);
    } catch (err) {
      setErrors(fieldErrors(err, { session: ['session'] }));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form" onSubmit={create} aria-label="Agent template">
      <h2>Start an agent</h2>
      <div class="cards" role="radiogroup" aria-label="Templates">
        {TEMPLATES.map((t) => (
          <label key={t.id} class={`card pick${t.id === picked.id ? ' picked' : ''}`}>
            <input
              type="radio"
              name="template"
              value={t.id}
              checked={t.id === picked.id}
              onChange={() => setPicked(t)}
            />
            <strong>{t.name}</strong>
            <small class="muted">{t.about}</small>
          </label>
        ))}
      </div>
      <Field id="template-session" label="Session id (optional)" error={errors.session}>
        <input
          {...describedBy('template-session', errors.session)}
          value={sessionId}
          onInput={(e) => setSessionId(e.currentTarget.value)}
        />
      </Field>
      {errors.form && <ErrorNote error={new Error(errors.form)} />}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          Create and open the chat
        </button>
      </div>
    </form>
  );
}
