// The capability matrix lives with the models (the engine and the drivers read it too); the
// runtime feature shows it on GET /v1/status and /v1/capabilities.
export { DRIVER_CAPABILITIES } from '../../models/capabilities.ts';
