/** Where one alert series (a rule for one campaign) stands. */
export interface AlertSeriesState {
  /** Consecutive windows (with data) the condition has held, up to the last evaluated one. */
  readonly streak: number;
  /** The open episode: when (window end) it fired; null when not firing. */
  readonly firingSince: number | null;
}

/** A series with no history. */
export const quietSeries: AlertSeriesState = Object.freeze({ streak: 0, firingSince: null });

/** What one window did to a series. */
export interface AlertStep {
  readonly state: AlertSeriesState;
  /** `fire`: an episode starts (once); `resolve`: it ends (once); null: nothing to tell. */
  readonly event: 'fire' | 'resolve' | null;
}

/**
 * One closed window of a series (DESIGN.md "Alerts"): the condition held (`true`), did not
 * (`false`) or could not be told (`null`: no data, the state is kept). The alert fires once per
 * episode, when the condition has held `forWindows` consecutive windows, and resolves once, at
 * the first window where it does not hold.
 */
export function stepAlertSeries(state: AlertSeriesState, holds: boolean | null, forWindows: number, windowEnd: number): AlertStep {
  if (holds === null) return { state, event: null };
  if (!holds) return { state: quietSeries, event: state.firingSince === null ? null : 'resolve' };
  const streak = state.streak + 1;
  if (state.firingSince === null && streak >= forWindows) return { state: { streak, firingSince: windowEnd }, event: 'fire' };
  return { state: { streak, firingSince: state.firingSince }, event: null };
}
