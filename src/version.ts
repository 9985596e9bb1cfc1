// The daemon's version: /v1/capabilities, /v1/status and the OpenAPI document show it.
export const DAEMON_VERSION = '0.1.0';
