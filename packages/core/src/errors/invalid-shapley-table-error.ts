/** A Shapley coalition table that is not usable (bad version, key or value). */
export class InvalidShapleyTableError extends Error {
  override readonly name = 'InvalidShapleyTableError';
}
