// Wire types of the Playbooks and Flows API (api-collab §3): the manifest (§3.3), release bodies
// (§3.4), the Flow start body (§3.5). Views are plain objects built in views.ts.
import { z } from 'zod';
import { SubmitInputRequest } from '../runs/schema.ts';

const Str = z.string();
const EvidenceRef = z.object({ kind: Str, id: Str, description: Str.optional() });
export type EvidenceRef = z.infer<typeof EvidenceRef>;

const Lists = z.record(z.string(), z.array(Str));

export const PlaybookManifest = z.object({
  playbook_id: Str,
  version: Str,
  title: Str,
  objective: Str,
  description: Str.optional(),
  inputs: z
    .array(z.object({ name: Str, description: Str.optional(), required: z.boolean().optional() }))
    .optional(),
  preconditions: z.array(Str).optional(),
  roles: z.array(z.object({ role_id: Str, purpose: Str.optional() })).optional(),
  phases: z
    .array(
      z.object({
        phase_id: Str,
        objective: Str,
        acceptance_criteria: z.array(Str).optional(),
        required_evidence: z.array(EvidenceRef).optional(),
      }),
    )
    .optional(),
  acceptance_criteria: z.array(Str).optional(),
  evidence_expectations: z.array(Str).optional(),
  required_evidence: z.array(EvidenceRef).optional(),
  tools: z
    .object({
      enforce: z.boolean().optional(),
      allow: z.array(Str).optional(),
      deny: z.array(Str).optional(),
    })
    .optional(),
  runtime_defaults: z.object({ provider: Str.optional(), model: Str.optional() }).optional(),
  scopes: z
    .object({
      capability_scope: Str.optional(),
      credential_scope: Str.optional(),
      required_capability_scope: Lists.optional(),
      required_credential_scope: Lists.optional(),
    })
    .optional(),
  metadata: z.unknown().optional(),
});
export type PlaybookManifest = z.infer<typeof PlaybookManifest>;

export const ManifestBody = z.object({ manifest: PlaybookManifest });

export const PlaybookParams = z.object({ playbook_id: Str });
export const FlowParams = z.object({ flow_id: Str });

export const ListPlaybooksQuery = z.object({ query: Str.optional(), status: Str.optional() });
export const ListFlowsQuery = z.object({
  playbook_id: Str.optional(),
  session_id: Str.optional(),
  status: Str.optional(),
});

export const PublishRequest = z.object({
  version: Str,
  digest: Str,
  status: z.enum(['verified', 'canary', 'active']).optional(),
  evidence_refs: z.array(EvidenceRef).optional(),
});
export type PublishRequest = z.infer<typeof PublishRequest>;

export const RevokeRequest = z.object({
  version: Str,
  digest: Str,
  reason: Str.optional(),
  evidence_refs: z.array(EvidenceRef).optional(),
});
export type RevokeRequest = z.infer<typeof RevokeRequest>;

export const StartFlowRequest = z.object({
  flow_id: Str.min(1).optional(),
  idempotency_key: Str.optional(),
  playbook_ref: z.object({ playbook_id: Str, version: Str, digest: Str }),
  session_id: Str,
  request: SubmitInputRequest,
  metadata: z.record(z.string(), z.unknown()).optional(),
  evidence_refs: z.array(EvidenceRef).optional(),
});
export type StartFlowRequest = z.infer<typeof StartFlowRequest>;

export const EvidenceRequest = z.object({ evidence_refs: z.array(EvidenceRef).min(1) });

export const VerifyProductViewRequest = z.object({
  report_path: Str.min(1),
  required_sections: z.array(Str.min(1)).optional(),
  forbidden_tools: z.array(Str.min(1)).optional(),
});
