import { useState } from "react";
import type { FormEvent } from "react";
import { useNavigate } from "react-router-dom";

import { api } from "../api";
import { guessTimeZone, planOptions } from "../options";
import type { Connection, Plan } from "../types";
import { useLoad } from "../useLoad";
import { ErrorMessage, Field, Page, SelectField, TimeZonePicker, useAction } from "../ui";

export function NewConnectionPage() {
  const plans = useLoad<Plan[]>("/v1/plans");
  const zones = useLoad<string[]>("/v1/time-zones");
  const [name, setName] = useState("");
  const [timeZone, setTimeZone] = useState<string | null>(null);
  const [plan, setPlan] = useState<string | null>(null);
  const action = useAction();
  const navigate = useNavigate();

  const chosenZone = timeZone ?? guessTimeZone(zones.data);
  const chosenPlan = plan ?? plans.data?.[0]?.code ?? "";

  async function submit(event: FormEvent) {
    event.preventDefault();
    const body: Record<string, string> = { name };
    if (zones.data) body.time_zone = chosenZone;
    if (chosenPlan) body.plan = chosenPlan;
    const created = await action.run(() => api.post<Connection>("/v1/connections", body));
    if (created) navigate(`/connections/${created.id}`);
  }

  return (
    <Page title="Create connection">
      <form onSubmit={submit} noValidate>
        <p>Type: Dynamics Xero Connector. You connect Xero and Dynamics 365 on the next page.</p>
        <Field label="Connection name" name="name" required value={name} onChange={(e) => setName(e.target.value)} error={action.error} />
        <TimeZonePicker zones={zones.data} value={chosenZone} onChange={setTimeZone} error={action.error} />
        <SelectField
          label="Plan"
          name="plan"
          value={chosenPlan}
          onChange={(e) => setPlan(e.target.value)}
          options={planOptions(plans.data)}
          error={action.error}
        />
        <ErrorMessage error={action.error ?? plans.error ?? zones.error} fields={["name", "time_zone", "plan"]} />
        <button type="submit" disabled={action.pending}>
          Create connection
        </button>
      </form>
    </Page>
  );
}
