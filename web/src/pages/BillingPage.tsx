import { Fragment, useState } from "react";
import type { FormEvent } from "react";

import { api } from "../api";
import type { Billing, Receipt } from "../types";
import { useLoad } from "../useLoad";
import { countryOptions } from "../options";
import { ErrorMessage, Field, Notice, Page, SelectField, formatDay, useAction } from "../ui";

const COUNTRIES = countryOptions();

const FIELDS = [
  { name: "name", label: "Name on invoices", autoComplete: "organization" },
  { name: "email", label: "Invoice email", autoComplete: "email", type: "email" },
  { name: "address_line1", label: "Address line 1", autoComplete: "address-line1" },
  { name: "address_line2", label: "Address line 2 (optional)", autoComplete: "address-line2" },
  { name: "city", label: "City", autoComplete: "address-level2" },
  { name: "postcode", label: "Postcode", autoComplete: "postal-code" },
  { name: "vat_number", label: "VAT number (optional)", autoComplete: "off" },
] as const;

type FieldName = (typeof FIELDS)[number]["name"] | "country";
type Values = Record<FieldName | "card_token", string>;

function valuesOf(billing: Billing | undefined): Values {
  const values = { card_token: "", country: billing?.country ?? "" } as Values;
  for (const field of FIELDS) values[field.name] = billing?.[field.name] ?? "";
  return values;
}

const RECEIPT_STATUS = { succeeded: "Paid", pending: "Processing", failed: "Failed" } as const;

function money(amount: string, currency: string): string {
  const value = Number(amount);
  return Number.isFinite(value)
    ? new Intl.NumberFormat(undefined, { style: "currency", currency }).format(value)
    : `${amount} ${currency}`;
}

/** Every charge and credit, newest first. */
function Receipts() {
  const receipts = useLoad<Receipt[]>("/v1/billing/receipts");
  return (
    <section aria-labelledby="receipts" className="panel">
      <h2 id="receipts">Receipts</h2>
      <ErrorMessage error={receipts.error} />
      {receipts.data === undefined && !receipts.error && <p role="status">Loading…</p>}
      {receipts.data?.length === 0 && <p>No charges yet.</p>}
      {receipts.data && receipts.data.length > 0 && (
        // Focusable, so that a keyboard can scroll it sideways on a narrow screen.
        <div className="table-scroll" tabIndex={0} role="region" aria-label="Scrollable table">
          <table className="receipts">
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">What</th>
                <th scope="col">Plan</th>
                <th scope="col">Period</th>
                <th scope="col" className="amount">
                  Amount
                </th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {receipts.data.map((receipt) => (
                <tr key={receipt.id}>
                  <td>{formatDay(receipt.date)}</td>
                  <td>
                    {receipt.kind === "credit" ? "Credit: " : ""}
                    {receipt.description}
                  </td>
                  <td>{receipt.plan}</td>
                  <td>
                    {formatDay(receipt.period_start)} to {formatDay(receipt.period_end)}
                  </td>
                  <td className="amount">{money(receipt.amount, receipt.currency)}</td>
                  <td>
                    {RECEIPT_STATUS[receipt.status]}
                    {receipt.failure_message && <span className="hint"> ({receipt.failure_message})</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function BillingPage() {
  const billing = useLoad<Billing>("/v1/billing");
  const [values, setValues] = useState<Values>(valuesOf(undefined));
  const action = useAction();
  const [saved, setSaved] = useState(false);

  // The form takes the details as they arrive (before its first paint; React's pattern for
  // state that follows a newer copy), so what a person types is never reset under them.
  const [shown, setShown] = useState<Billing | undefined>(undefined);
  if (billing.data !== shown) {
    setShown(billing.data);
    setValues(valuesOf(billing.data));
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    const { card_token, ...details } = values;
    const body: Record<string, string | null> = {};
    for (const [key, value] of Object.entries(details)) body[key] = value.trim() === "" ? null : value;
    if (card_token.trim()) body.card_token = card_token.trim();
    const fresh = await action.run(() => api.put<Billing>("/v1/billing", body));
    if (fresh) {
      billing.setData(fresh);
      setSaved(true);
    }
  }

  const card = billing.data?.payment_method;
  if (!billing.data) {
    // The form waits for the saved details, so that nothing typed is replaced by them.
    return (
      <Page title="Billing details">
        <ErrorMessage error={billing.error} />
        {!billing.error && <p role="status">Loading…</p>}
      </Page>
    );
  }
  return (
    <Page title="Billing details">
      <p>
        Payment method:{" "}
        {card ? `${card.brand} ending ${card.last4}` : "none yet (not needed during the free trial)"}
      </p>
      <form onSubmit={submit} noValidate>
        {FIELDS.map((field) => (
          <Fragment key={field.name}>
            <Field
              label={field.label}
              name={field.name}
              type={"type" in field ? field.type : "text"}
              autoComplete={field.autoComplete}
              value={values[field.name]}
              onChange={(e) => setValues((v) => ({ ...v, [field.name]: e.target.value }))}
              error={action.error}
            />
            {field.name === "postcode" && (
              <SelectField
                label="Country"
                name="country"
                autoComplete="country"
                value={values.country}
                onChange={(e) => setValues((v) => ({ ...v, country: e.target.value }))}
                options={COUNTRIES}
                error={action.error}
              />
            )}
          </Fragment>
        ))}
        <Field
          label="New card token (optional)"
          name="card_token"
          hint="The token the payment provider's card form gives; leave empty to keep the current card."
          autoComplete="off"
          value={values.card_token}
          onChange={(e) => setValues((v) => ({ ...v, card_token: e.target.value }))}
          error={action.error}
        />
        <ErrorMessage error={action.error} fields={[...FIELDS.map((f) => f.name), "country", "card_token"]} />
        <button type="submit" disabled={action.pending}>
          Save billing details
        </button>
        {saved && <Notice>Billing details saved.</Notice>}
      </form>
      <Receipts />
    </Page>
  );
}
