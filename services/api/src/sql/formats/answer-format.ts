/** The formats a SQL answer comes in, chosen by the request's `Accept`. */
export type AnswerFormat = 'json' | 'csv' | 'parquet' | 'arrow';

/** Each format's media type (the response's content type; `Accept` names it). */
export const answerMediaTypes: Readonly<Record<AnswerFormat, string>> = {
  json: 'application/json',
  csv: 'text/csv',
  parquet: 'application/vnd.apache.parquet',
  arrow: 'application/vnd.apache.arrow.stream',
};

/** The file name extension of each format (downloads). */
export const answerExtensions: Readonly<Record<AnswerFormat, string>> = { json: 'json', csv: 'csv', parquet: 'parquet', arrow: 'arrows' };

const formatOfType = new Map<string, AnswerFormat>([
  ...Object.entries(answerMediaTypes).map(([f, t]) => [t, f as AnswerFormat] as const),
  ['application/*', 'json'],
  ['*/*', 'json'],
  ['text/*', 'csv'],
  ['application/x-parquet', 'parquet'],
  ['application/vnd.apache.arrow.file', 'arrow'],
]);

/**
 * The format an `Accept` header asks for: the acceptable media type of highest quality that
 * the API serves (ties: the first listed); JSON without a header. Null when it names none of
 * them (answered 406).
 */
export function negotiateFormat(accept: string | undefined): AnswerFormat | null {
  if (accept === undefined || accept.trim() === '') return 'json';
  const offers = accept.split(',').map((part, order) => {
    const [type = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return { type: type.trim(), q: q === undefined ? 1 : Number(q.slice(2)), order };
  });
  const usable = offers.filter((o) => o.q > 0 && formatOfType.has(o.type)).sort((a, b) => b.q - a.q || a.order - b.order);
  return usable.length === 0 ? null : (formatOfType.get(usable[0]!.type) as AnswerFormat);
}
