import type { Plan } from "./types";

export function planLabel(plan: Plan): string {
  const price = Number(plan.monthly_price);
  const money = Number.isFinite(price)
    ? new Intl.NumberFormat(undefined, { style: "currency", currency: plan.currency }).format(price)
    : `${plan.monthly_price} ${plan.currency}`;
  const minutes = Math.round(plan.sync_interval_seconds / 60);
  const every = minutes >= 1 ? `syncs every ${minutes} min` : `syncs every ${plan.sync_interval_seconds} s`;
  const limit = plan.max_invoices_per_month ? `, up to ${plan.max_invoices_per_month} invoices a month` : "";
  return `${plan.name}: ${money} a month, ${every}${limit}`;
}

export function planOptions(plans: Plan[] | undefined) {
  return (plans ?? []).map((plan) => ({ value: plan.code, label: planLabel(plan) }));
}

export function timeZoneOptions(zones: string[] | undefined) {
  return (zones ?? []).map((zone) => ({ value: zone, label: zone.replaceAll("_", " ") }));
}

/** The browser's own time zone when the list has it: the likely answer. */
export function guessTimeZone(zones: string[] | undefined): string {
  const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zones?.includes(own)) return own;
  return zones?.[0] ?? "UTC";
}
