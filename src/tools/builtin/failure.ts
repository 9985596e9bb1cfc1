// A ToolFailure is an expected refusal or error whose message is written for the model to act on.
// Anything else that escapes a tool is a bug and is reported with less polish.

export class ToolFailure extends Error {
  override name = 'ToolFailure';
}

export function fail(message: string): never {
  throw new ToolFailure(message);
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason;
}

interface ErrnoLike {
  code?: string;
}

/**
 * Turns a Node fs error into a ToolFailure naming the workspace path the model used. Node's own
 * message would show internal `/proc/self/fd/...` paths, which mean nothing to the caller.
 */
export function fsFailure(err: unknown, display: string, action: string): ToolFailure {
  if (err instanceof ToolFailure) return err;
  const code = (err as ErrnoLike)?.code;
  const what = `\`${display}\``;
  switch (code) {
    case 'ENOENT':
      return new ToolFailure(
        `${what} does not exist (while trying to ${action}); check the path with list_files`,
      );
    case 'EACCES':
    case 'EPERM':
      return new ToolFailure(`permission denied to ${action} ${what}`);
    case 'EISDIR':
      return new ToolFailure(
        `${what} is a directory; cannot ${action} it (use list_files to see its contents)`,
      );
    case 'ENOTDIR':
      return new ToolFailure(`a component of ${what} is not a directory; cannot ${action} it`);
    case 'ELOOP':
      return new ToolFailure(
        `${what} goes through a symbolic link that changed or loops while trying to ${action}; refusing`,
      );
    case 'ENAMETOOLONG':
      return new ToolFailure(`${what} is too long a path for this filesystem`);
    case 'ENOSPC':
    case 'EDQUOT':
      return new ToolFailure(`no space left on the device to ${action} ${what}`);
    case 'EROFS':
      return new ToolFailure(`${what} is on a read-only filesystem; cannot ${action} it`);
    case 'EEXIST':
      return new ToolFailure(`${what} already exists as something else; cannot ${action} it`);
    case 'EMFILE':
    case 'ENFILE':
      return new ToolFailure(`too many open files to ${action} ${what}; try again`);
    default:
      return new ToolFailure(`failed to ${action} ${what}: ${(err as Error)?.message ?? String(err)}`);
  }
}
