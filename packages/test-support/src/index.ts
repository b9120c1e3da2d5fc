export { seededRandom, shuffle, testSeed } from './seeded-random.js';
export {
  CHROME_UA,
  DAY,
  GOOGLEBOT_UA,
  HOUR,
  MINUTE,
  SECOND,
  eventBuilders,
  type BuilderDefaults,
  type CommonFields,
  type EventBuilders,
  type TouchFields,
} from './event-builders.js';
export { waitForTrue, waitUntil } from './wait-until.js';
export { checkClusterLifecycle, childPids, isAlive, type ServerClusterUnderTest } from './child-processes.js';
export { filesUnder } from './files-under.js';
