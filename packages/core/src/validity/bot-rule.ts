import { isbot } from 'isbot';

/**
 * Rule 1, `bot`: the user agent is recognised by the `isbot` package. Applies to every event
 * type. An event without a user agent is not a bot (isbot says so too; stated for clarity).
 */
export function isBotUserAgent(userAgent: string | undefined): boolean {
  return userAgent !== undefined && userAgent !== '' && isbot(userAgent);
}
