// Which bot token speaks for a team: the team's own (`team_bot_tokens`, Enterprise Grid and
// multi-workspace installs) before the connector's `bot_token`.
import type { SecretStore } from '../../../secrets/secret-store.ts';
import type { ConnectorsPort } from '../../connectors/port.ts';
import type { SlackConfig } from './settings.ts';

export async function slackBotToken(
  connectors: ConnectorsPort,
  secretStore: SecretStore,
  name: string,
  config: SlackConfig,
  teamId: string | null | undefined,
): Promise<string | null> {
  const team = teamId ? config.teamTokens.find((t) => t.team_id === teamId) : undefined;
  if (team) {
    if (team.secret_ref) {
      try {
        const v = await secretStore.getSecretValue(team.secret_ref);
        if (v !== '') return v;
      } catch {
        // An unreadable slot is a missing token: the caller decides what that means.
      }
      return null;
    }
    const v = team.env ? process.env[team.env] : undefined;
    return v ? v : null;
  }
  return connectors.secret('slack', name, 'bot_token');
}
