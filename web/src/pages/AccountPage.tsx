import { useState } from "react";

import { api } from "../api";
import type { NotificationPreferences } from "../types";
import { useLoad } from "../useLoad";
import { ErrorMessage, Notice, Page, useAction } from "../ui";

const CHOICES: { key: keyof NotificationPreferences; label: string; hint: string }[] = [
  { key: "reauthorisation", label: "A connection must be connected again", hint: "When Xero or Dynamics 365 stops accepting it." },
  { key: "failures", label: "Invoices that could not be synced", hint: "The first failure after a quiet spell, then one summary a day." },
  { key: "trial_ending", label: "The free trial is ending", hint: "Three days before it ends." },
  { key: "billing", label: "Billing", hint: "A payment failed or a plan's monthly limit is reached." },
];

export function AccountPage() {
  const preferences = useLoad<NotificationPreferences>("/v1/account/notifications");
  const save = useAction();
  const [saved, setSaved] = useState<string | null>(null);

  async function toggle(key: keyof NotificationPreferences, value: boolean) {
    const before = preferences.data;
    if (!before) return;
    setSaved(null);
    // The box follows the click at once; a refusal puts it back.
    preferences.setData({ ...before, [key]: value });
    const fresh = await save.run(() =>
      api.patch<NotificationPreferences>("/v1/account/notifications", { [key]: value }),
    );
    preferences.setData(fresh ?? before);
    if (fresh) setSaved(value ? "You will get these e-mails." : "You will no longer get these e-mails.");
  }

  return (
    <Page title="Account">
      <section aria-labelledby="notifications" className="panel">
        <h2 id="notifications">E-mail notifications</h2>
        <p className="hint">Never more than five notification e-mails a day.</p>
        <ErrorMessage error={preferences.error ?? save.error} />
        {preferences.data === undefined && !preferences.error && <p role="status">Loading…</p>}
        {preferences.data && (
          <ul className="plain">
            {CHOICES.map((choice) => (
              <li key={choice.key} className="field">
                <label>
                  <input
                    type="checkbox"
                    name={choice.key}
                    checked={preferences.data?.[choice.key] ?? true}
                    onChange={(e) => toggle(choice.key, e.target.checked)}
                    aria-describedby={`hint-${choice.key}`}
                  />{" "}
                  {choice.label}
                </label>
                <p className="hint" id={`hint-${choice.key}`}>
                  {choice.hint}
                </p>
              </li>
            ))}
          </ul>
        )}
        {saved && <Notice>{saved}</Notice>}
      </section>
    </Page>
  );
}
