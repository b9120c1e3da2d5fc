/** Sum of a Prometheus counter/gauge over all its label sets, from a service's /metrics (0 when absent). */
export async function metricSum(port: number, name: string, labelFilter = ''): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(3_000) });
  const text = await res.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue;
    if (labelFilter && !rest.includes(labelFilter)) continue;
    sum += Number(line.split(' ').at(-1));
  }
  return sum;
}
