// The wizard's third step: park credentials in the daemon's encrypted store before anything uses
// them (`client.secrets.put/list`, admin). Values are write-only: a read returns the slot's name,
// kind and time, never the value, so each slot is shown as set or unset and nothing more.
import { useState } from 'preact/hooks';
import type { AuthSlotStatus } from '../../../src/sdk/index.ts';
import { fieldErrors } from '../field-errors.ts';
import {
  Async,
  Badge,
  describedBy,
  Field,
  FormOutcome,
  SecretValueField,
  Time,
  useApp,
  useLoad,
} from '../ui.tsx';
import { Table } from './table.tsx';

/** Slot names offered before any is stored, in the dotted namespace the quickstart suggests. */
export const SUGGESTED_SLOTS = ['tools.github.TOKEN', 'tools.brave.API_KEY', 'tools.weather.API_KEY'];

interface SlotRow {
  slot_id: string;
  stored?: AuthSlotStatus;
}

export function SecretsStep(props: { onNext(): void }) {
  const { client } = useApp();
  const slots = useLoad((k) => k.secrets.list());
  const [slotId, setSlotId] = useState('');
  const [value, setValue] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);
  const save = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setDone('');
    if (!slotId.trim()) return setErrors({ slot: 'the slot name is empty' });
    if (!value) return setErrors({ value: 'the value is empty' });
    // This step writes opaque secrets: overwriting a route's API key slot would break the route.
    const other = slots.data?.find((s) => s.slot_id === slotId.trim() && s.mode !== 'opaque_secret');
    if (other)
      return setErrors({
        slot: `${other.slot_id} holds ${other.mode.replaceAll('_', ' ')} credentials; change it with kheish-daemon secrets set`,
      });
    setBusy(true);
    try {
      const saved = await client.secrets.put({
        slot_id: slotId.trim(),
        provider: 'generic',
        mode: 'opaque_secret',
        state: { value },
      });
      // The value leaves the page as soon as the daemon has it.
      setValue('');
      setSlotId('');
      setDone(`Stored ${saved.slot_id}`);
      slots.reload();
    } catch (err) {
      setErrors(
        fieldErrors(err, {
          value: ['state.value', 'value'],
          slot: ['slot_id', 'slot id', 'secret_ref'],
        }),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="form">
      <h2>Park secrets (optional)</h2>
      <p class="muted">
        Tokens your agents and tools will need later go to the daemon's encrypted store. Values are
        write-only: once saved, nobody can read them back, not even this page.
      </p>
      <Async state={slots}>
        {(stored) => (
          <Table<SlotRow>
            caption="Secret slots"
            rows={slotRows(stored)}
            rowKey={(r) => r.slot_id}
            columns={[
              { label: 'Slot', cell: (r) => <code>{r.slot_id}</code> },
              { label: 'Value', cell: (r) => <Badge value={r.stored ? 'set' : 'unset'} /> },
              { label: 'Kind', cell: (r) => r.stored?.mode.replaceAll('_', ' ') ?? '—' },
              { label: 'Updated', cell: (r) => <Time ms={r.stored?.updated_at_ms as number | undefined} /> },
              {
                label: 'Action',
                cell: (r) =>
                  r.stored && r.stored.mode !== 'opaque_secret' ? (
                    <span class="muted">kept by its route or connector</span>
                  ) : (
                    <button type="button" class="link" onClick={() => setSlotId(r.slot_id)}>
                      {r.stored ? 'Replace' : 'Set'} <span class="sr-only">{r.slot_id}</span>
                    </button>
                  ),
              },
            ]}
          />
        )}
      </Async>
      <form class="form" onSubmit={save} aria-label="Store a secret">
        <Field
          id="secret-slot"
          label="Slot name"
          error={errors.slot}
          hint="Letters, digits, dots, dashes and underscores, e.g. tools.weather.API_KEY"
        >
          <input
            {...describedBy('secret-slot', errors.slot)}
            value={slotId}
            spellcheck={false}
            onInput={(e) => setSlotId(e.currentTarget.value)}
          />
        </Field>
        <SecretValueField
          value={value}
          error={errors.value}
          hint="Write-only: never shown again"
          onInput={setValue}
        />
        <FormOutcome error={errors.form} done={done} />
        <div class="actions">
          <button type="submit" disabled={busy}>
            Save secret
          </button>
          <button type="button" class="primary" onClick={props.onNext}>
            Continue
          </button>
        </div>
      </form>
    </div>
  );
}

/** The stored slots, then the suggested names not stored yet (shown unset). */
function slotRows(stored: AuthSlotStatus[]): SlotRow[] {
  const rows: SlotRow[] = stored.map((s) => ({ slot_id: s.slot_id, stored: s }));
  for (const id of SUGGESTED_SLOTS) if (!stored.some((s) => s.slot_id === id)) rows.push({ slot_id: id });
  return rows;
}
