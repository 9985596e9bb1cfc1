// Loading the auth-store master key from KHEISH_AUTH_STORE_MASTER_KEY (inline) or
// KHEISH_AUTH_STORE_MASTER_KEY_FILE (preferred in containers). Exactly the format `secrets generate`
// prints is accepted, so a truncated paste or a key meant for something else fails loudly here
// rather than later as "every secret is corrupt". Messages never echo the key text.
import { readFileSync, statSync } from 'node:fs';
import { MASTER_KEY_BYTES, MasterKey } from './crypto.ts';
import { MasterKeyError } from './errors.ts';

export const MASTER_KEY_ENV = 'KHEISH_AUTH_STORE_MASTER_KEY';
export const MASTER_KEY_FILE_ENV = 'KHEISH_AUTH_STORE_MASTER_KEY_FILE';

const STANDARD_BASE64_32 = /^[A-Za-z0-9+/]{43}=$/;

/** The configured key, or null when neither variable is set (an empty value counts as unset). */
export function loadMasterKey(env: NodeJS.ProcessEnv = process.env): MasterKey | null {
  const inline = env[MASTER_KEY_ENV]?.trim() || undefined;
  const file = env[MASTER_KEY_FILE_ENV]?.trim() || undefined;
  if (inline && file)
    throw new MasterKeyError(
      `both ${MASTER_KEY_ENV} and ${MASTER_KEY_FILE_ENV} are set; set only one of them`,
    );
  if (inline) return parseMasterKey(inline, MASTER_KEY_ENV);
  if (!file) return null;
  let text: string;
  const warnings: string[] = [];
  try {
    text = readFileSync(file, 'utf8');
    // Group/world-readable key files are a common container mistake; warn, do not refuse.
    if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0)
      warnings.push(`${MASTER_KEY_FILE_ENV} ${file} is readable by other users; chmod 600 it`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new MasterKeyError(`cannot read ${MASTER_KEY_FILE_ENV} ${file} (${code})`);
  }
  return parseMasterKey(text.trim(), `${MASTER_KEY_FILE_ENV} (${file})`, warnings);
}

/** Parses the 44-character padded standard base64 of 32 bytes. */
export function parseMasterKey(text: string, source: string, warnings: string[] = []): MasterKey {
  const value = text.trim();
  if (!STANDARD_BASE64_32.test(value)) {
    const decoded = /^[A-Za-z0-9+/_-]+={0,2}$/.test(value) ? Buffer.from(value, 'base64').length : undefined;
    const got =
      value === ''
        ? 'it is empty'
        : decoded !== undefined && decoded !== MASTER_KEY_BYTES
          ? `it decodes to ${decoded} bytes`
          : `it is ${value.length} characters long and not in that format`;
    throw new MasterKeyError(
      `${source} is not a valid master key: expected the 44-character standard base64 encoding of ` +
        `${MASTER_KEY_BYTES} random bytes, as printed by \`kheish-daemon secrets generate\`, but ${got}`,
    );
  }
  return new MasterKey(Buffer.from(value, 'base64'), source, warnings);
}
