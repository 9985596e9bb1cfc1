// Puts a problem document's `detail` next to the field it is about. The daemon's details name the
// field (zod paths like `body.cadence.expression`, or words like "cron expression", "session"), so
// the first field whose words appear in the detail gets it; otherwise the form as a whole does.
import { describe } from './api.ts';

export type FieldErrors = Record<string, string>;

/** `fields`: field name → words that identify it in a detail, most specific first. */
export function fieldErrors(err: unknown, fields: Record<string, string[]>): FieldErrors {
  const detail = describe(err);
  const lower = detail.toLowerCase();
  for (const [field, words] of Object.entries(fields)) {
    if (words.some((w) => lower.includes(w))) return { [field]: detail };
  }
  return { form: detail };
}
