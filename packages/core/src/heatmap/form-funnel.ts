import type { FormAction } from '@sigflow/events';
import { compareCodePoints } from '../ordering/event-order.js';

/** Valid form interactions of one form and action (from the page activity view). */
export interface FormActionCount {
  readonly form_id: string;
  readonly action: FormAction;
  readonly count: number;
}

/** One form's funnel: entered (focus), changed (input), then submitted or abandoned. */
export interface FormFunnel {
  readonly formId: string;
  readonly focus: number;
  readonly input: number;
  readonly submit: number;
  readonly abandon: number;
  /** submit / focus; null without focus. */
  readonly submitRate: number | null;
  /** abandon / focus; null without focus. */
  readonly abandonRate: number | null;
}

/**
 * Form funnels of a page (DESIGN.md, "Page heatmap"): per form, how many times it was entered
 * (`focus`), changed (`input`), submitted and abandoned (the page view ended with the form
 * entered but not submitted), and the submit and abandon rates over the entries. Sorted by
 * entries (most first), then form id.
 */
export function formFunnels(counts: readonly FormActionCount[]): FormFunnel[] {
  const byForm = new Map<string, Record<FormAction, number>>();
  for (const c of counts) {
    let f = byForm.get(c.form_id);
    if (!f) byForm.set(c.form_id, (f = { focus: 0, input: 0, submit: 0, abandon: 0 }));
    f[c.action] += c.count;
  }
  const rate = (n: number, of: number) => (of > 0 ? n / of : null);
  return [...byForm]
    .map(([formId, f]) => ({ formId, ...f, submitRate: rate(f.submit, f.focus), abandonRate: rate(f.abandon, f.focus) }))
    .sort((a, b) => b.focus - a.focus || compareCodePoints(a.formId, b.formId));
}
