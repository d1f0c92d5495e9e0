import type { Plan } from "./types";

export function planLabel(plan: Plan): string {
  const price = Number(plan.monthly_price);
  const money = Number.isFinite(price)
    ? new Intl.NumberFormat(undefined, { style: "currency", currency: plan.currency }).format(price)
    : `${plan.monthly_price} ${plan.currency}`;
  const seconds = plan.sync_interval_seconds;
  const every = seconds % 60 === 0 ? `syncs every ${seconds / 60} min` : `syncs every ${seconds} s`;
  const limit = plan.max_invoices_per_month ? `, up to ${plan.max_invoices_per_month} invoices a month` : "";
  return `${plan.name}: ${money} a month, ${every}${limit}`;
}

export function planOptions(plans: Plan[] | undefined) {
  return (plans ?? []).map((plan) => ({ value: plan.code, label: planLabel(plan) }));
}

/** The browser's own time zone when the list has it: the likely answer. */
export function guessTimeZone(zones: string[] | undefined): string {
  const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zones?.includes(own)) return own;
  return zones?.[0] ?? "UTC";
}

// ISO 3166-1 alpha-2: what portal-api stores as the billing country.
const COUNTRY_CODES =
  "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS " +
  "BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE " +
  "EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM " +
  "HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC " +
  "LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA " +
  "NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
  "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO " +
  "TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

export function countryOptions(): { value: string; label: string }[] {
  const names = new Intl.DisplayNames(undefined, { type: "region" });
  const countries = COUNTRY_CODES.split(" ").map((code) => ({
    value: code,
    label: names.of(code) ?? code,
  }));
  countries.sort((a, b) => a.label.localeCompare(b.label));
  return [{ value: "", label: "Choose a country" }, ...countries];
}
