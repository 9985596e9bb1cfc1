// Shared by the daemon-side checks (src/features/doctor) and the CLI that merges them into one
// report (src/cli/doctor-checks.ts), so both speak one wire shape; here because both may import config.
// One line of `kheish-daemon doctor` (ops-runtime §2.6 DoctorView.checks[]): what was checked,
// how bad it is, and — when something is wrong — one command or step that fixes it.
export type Severity = 'ok' | 'info' | 'warning' | 'error';

export interface DoctorCheck {
  name: string;
  code: string;
  ok: boolean;
  severity: Severity;
  message: string;
  action?: string;
  related_id?: string;
}

export const pass = (name: string, message: string): DoctorCheck => ({
  name,
  code: 'ok',
  ok: true,
  severity: 'ok',
  message,
});

export const fail = (
  name: string,
  code: string,
  severity: Exclude<Severity, 'ok'>,
  message: string,
  action?: string,
  related_id?: string,
): DoctorCheck => ({
  name,
  code,
  ok: severity === 'info',
  severity,
  message,
  ...(action ? { action } : {}),
  ...(related_id ? { related_id } : {}),
});
