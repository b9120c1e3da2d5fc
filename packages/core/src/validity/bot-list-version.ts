import isbotPackage from 'isbot/package.json' with { type: 'json' };

/**
 * The version of the `isbot` package whose list decides rule 1 (`bot`) in this build. A new list
 * can change which historical events count as bots, so the batch layer records it with every
 * version it computes (next to the Shapley and Markov versions).
 */
export const isbotVersion: string = isbotPackage.version;
