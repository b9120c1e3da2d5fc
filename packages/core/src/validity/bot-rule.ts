import { isbot } from 'isbot';

/**
 * Rule 1, `bot`: the user agent is recognised by the `isbot` package. Applies to every event
 * type. An event without a user agent is not a bot (isbot says so too; stated for clarity).
 */
export function isBotUserAgent(userAgent: string | undefined): boolean {
  if (userAgent === undefined || userAgent === '') return false;
  // isbot runs one large regular expression; traffic repeats a few thousand user agents, so
  // remembering verdicts saves most of that work (the cache is bounded and rebuilt when full).
  let verdict = verdicts.get(userAgent);
  if (verdict === undefined) {
    verdict = isbot(userAgent);
    if (verdicts.size >= maxRememberedUserAgents) verdicts.clear();
    verdicts.set(userAgent, verdict);
  }
  return verdict;
}

const maxRememberedUserAgents = 10_000;
const verdicts = new Map<string, boolean>();
