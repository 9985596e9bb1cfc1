// Public surface of the shell tool for the daemon: registration and the sandbox probe.
export type { ShellToolOptions } from './bash-tool.ts';
export { createBashTool, registerShellTool } from './bash-tool.ts';
export type { SandboxStatus } from './sandbox.ts';
export { sandboxStatus } from './sandbox.ts';
