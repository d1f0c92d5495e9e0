import { useEffect, useState } from "react";
import type { FormEvent, ReactNode } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";

import { API_BASE, api } from "../api";
import { planOptions } from "../options";
import { DIRECTIONS } from "./ActivityPage";
import type {
  Activity,
  Checklist,
  Connection,
  DynamicsOrganisation,
  InstallResult,
  Plan,
  SyncRun,
  XeroOrganisation,
} from "../types";
import { useLoad } from "../useLoad";
import {
  ErrorMessage,
  Field,
  HealthBadge,
  HealthReasons,
  Notice,
  Page,
  SelectField,
  TimeZonePicker,
  formatDate,
  formatDay,
  here,
  plainValue,
  useAction,
} from "../ui";

const PROVIDER_NAMES = { xero: "Xero", dynamics: "Dynamics 365" } as const;

type Provider = keyof typeof PROVIDER_NAMES;

function Section({ title, id, children }: { title: string; id: string; children: ReactNode }) {
  return (
    <section aria-labelledby={id} className="panel">
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

export function ConnectionPage() {
  const { id = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const connection = useLoad<Connection>(`/v1/connections/${id}`);
  const checklist = useLoad<Checklist>(`/v1/connections/${id}/checklist`);

  // Answers to changes carry no health: keep the one shown until GET brings the new one.
  const updated = (fresh?: Connection) => {
    if (fresh) connection.setData({ ...fresh, health: fresh.health ?? connection.data?.health });
    connection.reload();
    checklist.reload();
  };

  const connected = params.get("connected");
  const callbackError = params.get("error");
  const dismiss = () => setParams({}, { replace: true });

  if (connection.error) {
    return (
      <Page title="Connection">
        <ErrorMessage error={connection.error} />
        <p>
          <Link to="/">Back to your connections</Link>
        </p>
      </Page>
    );
  }
  const c = connection.data;
  if (!c) return <p role="status">Loading…</p>;
  // Archived (cancelled by the customer) takes no more changes; "cancelled" (the trial ended
  // unpaid) can still subscribe.
  const closed = c.status === "archived";

  return (
    <Page title={c.name}>
      <p>
        <HealthBadge health={c.health} /> {c.type}
        {c.trial_ends_at && !c.subscription && <> · free trial until {formatDay(c.trial_ends_at)}</>}
        {c.subscription?.billing_starts_at && (
          <> · free trial; the plan starts on {formatDay(c.subscription.billing_starts_at)}</>
        )}
      </p>
      <HealthReasons health={c.health} />
      {c.invoices_paused_until && (
        <div className="banner" role="status">
          <p>
            This connection has sent its plan&apos;s monthly limit of invoices to Xero. New invoices wait, and
            nothing is dropped: they go on {formatDay(c.invoices_paused_until)}, or at once if you choose a bigger
            plan in <a href="#settings">Settings</a>.
          </p>
        </div>
      )}
      {connected && connected in PROVIDER_NAMES && (
        <Notice>
          <p>
            {PROVIDER_NAMES[connected as Provider]} is connected.
            {!(connected === "xero" ? c.xero.tenant_id : c.dynamics.org_url) && " Choose the organisation below."}{" "}
            <button type="button" className="link-button" onClick={dismiss}>
              Dismiss
            </button>
          </p>
        </Notice>
      )}
      {callbackError && (
        <div className="error-region" role="alert">
          <p className="error">
            The connection was not made: {callbackError}{" "}
            <button type="button" className="link-button" onClick={dismiss}>
              Dismiss
            </button>
          </p>
        </div>
      )}
      <p>
        <Link to={`/connections/${c.id}/activity`}>Sync activity</Link>
      </p>
      {!closed && <SyncProblems connectionId={c.id} />}
      <ChecklistPanel checklist={checklist.data} error={checklist.error} />
      {!closed && (
        <>
          <XeroPanel connection={c} onUpdated={updated} />
          <DynamicsPanel connection={c} onUpdated={updated} />
          <InstallPanel connection={c} onUpdated={updated} />
        </>
      )}
      <SettingsPanel connection={c} onUpdated={updated} disabled={closed} />
      <SubscriptionPanel connection={c} onUpdated={updated} />
    </Page>
  );
}

/** The latest run of each kind that failed as a whole (a revoked grant, say), so the problem
 * shows where the fix is made, not only on the activity page. */
function SyncProblems({ connectionId }: { connectionId: string }) {
  const activity = useLoad<Activity>(`/v1/connections/${connectionId}/activity`);
  const latest = new Map<string, SyncRun>();
  for (const run of activity.data?.runs ?? []) if (!latest.has(run.direction)) latest.set(run.direction, run);
  const problems = [...latest.values()].filter((run) => run.error);
  if (problems.length === 0) return null;
  return (
    <div className="error-region" role="alert">
      <h2 className="visually-hidden">Sync problems</h2>
      {problems.map((run) => (
        <p className="error" key={run.direction}>
          {DIRECTIONS[run.direction] ?? run.direction} failed {formatDate(run.started_at)}: {here(run.error ?? "")}
        </p>
      ))}
    </div>
  );
}

function ChecklistPanel({ checklist, error }: { checklist: Checklist | undefined; error: ReturnType<typeof useLoad>["error"] }) {
  return (
    <Section title="Checklist" id="checklist">
      <ErrorMessage error={error} />
      {checklist && (
        <>
          <p role="status" className={checklist.complete ? "ok" : undefined}>
            {checklist.complete
              ? "Everything is in place: the connection syncs."
              : `${checklist.steps.filter((s) => s.done).length} of ${checklist.steps.length} steps done.`}
          </p>
          <ul className="checklist">
            {checklist.steps.map((step) => (
              <li key={step.key} data-step={step.key} className={step.done ? "done" : "todo"}>
                <span className="tick" aria-hidden="true">
                  {step.done ? "✓" : "✗"}
                </span>
                <span>
                  <span className="visually-hidden">{step.done ? "Done: " : "Not done: "}</span>
                  {step.title}
                  {!step.done && step.tip && <span className="tip">{here(step.tip)}</span>}
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </Section>
  );
}

function ConnectButton({ connectionId, provider, again }: { connectionId: string; provider: Provider; again: boolean }) {
  const action = useAction();
  async function connect() {
    const result = await action.run(() =>
      api.post<{ authorize_url: string }>(`/v1/connections/${connectionId}/${provider}/authorize`),
    );
    if (result) window.location.assign(result.authorize_url);
  }
  return (
    <div>
      <button type="button" className={again ? "secondary" : undefined} onClick={connect} disabled={action.pending}>
        {again ? `Reconnect to ${PROVIDER_NAMES[provider]}` : `Connect to ${PROVIDER_NAMES[provider]}`}
      </button>
      <ErrorMessage error={action.error} />
    </div>
  );
}

interface PickerProps<O> {
  connectionId: string;
  provider: Provider;
  current: string | null;
  valueOf: (o: O) => string;
  labelOf: (o: O) => string;
  bodyOf: (value: string) => object;
  onUpdated: (fresh: Connection) => void;
}

function OrganisationPicker<O>({ connectionId, provider, current, valueOf, labelOf, bodyOf, onUpdated }: PickerProps<O>) {
  // With an organisation chosen the picker stays closed until the person asks to change it.
  const [open, setOpen] = useState(current === null);
  const organisations = useLoad<O[]>(open ? `/v1/connections/${connectionId}/${provider}/organisations` : null);
  const [choice, setChoice] = useState<string | null>(null);
  const action = useAction();
  const options = (organisations.data ?? []).map((o) => ({ value: valueOf(o), label: labelOf(o) }));
  const selected = choice ?? current ?? options[0]?.value ?? "";

  async function submit(event: FormEvent) {
    event.preventDefault();
    const fresh = await action.run(() =>
      api.put<Connection>(`/v1/connections/${connectionId}/${provider}/organisation`, bodyOf(selected)),
    );
    if (fresh) {
      setOpen(false);
      onUpdated(fresh);
    }
  }

  if (!open) {
    return (
      <button type="button" className="secondary" onClick={() => setOpen(true)}>
        Change {PROVIDER_NAMES[provider]} organisation
      </button>
    );
  }
  if (organisations.error) return <ErrorMessage error={organisations.error} />;
  if (!organisations.data) return <p role="status">Loading organisations…</p>;
  if (options.length === 0) return <p className="error">This account has no organisations to choose from.</p>;
  const fieldName = provider === "xero" ? "tenant_id" : "org_url";
  return (
    <form onSubmit={submit} className="inline-form">
      <SelectField
        label={`${PROVIDER_NAMES[provider]} organisation`}
        name={fieldName}
        value={selected}
        onChange={(e) => setChoice(e.target.value)}
        options={options}
        error={action.error}
        autoFocus={current !== null}
      />
      <button type="submit" disabled={action.pending || selected === current}>
        Use this organisation
      </button>
      <ErrorMessage error={action.error} fields={[fieldName]} />
    </form>
  );
}

interface PanelProps {
  connection: Connection;
  onUpdated: (fresh?: Connection) => void;
}

function XeroPanel({ connection, onUpdated }: PanelProps) {
  const xero = connection.xero;
  return (
    <Section title="Xero" id="xero">
      <p>
        {xero.error ? (
          <span className="error">Needs re-authorisation.</span>
        ) : xero.connected ? (
          <span className="ok">Connected{xero.tenant_name ? ` to ${xero.tenant_name}` : ", no organisation chosen yet"}.</span>
        ) : (
          <span className="todo">Not connected.</span>
        )}
      </p>
      {xero.error && (
        <p className="error" role="alert">
          {here(xero.error)}
        </p>
      )}
      {xero.connected && (
        <OrganisationPicker<XeroOrganisation>
          connectionId={connection.id}
          provider="xero"
          current={xero.tenant_id}
          valueOf={(o) => o.tenant_id}
          labelOf={(o) => o.name}
          bodyOf={(tenant_id) => ({ tenant_id })}
          onUpdated={onUpdated}
        />
      )}
      <ConnectButton connectionId={connection.id} provider="xero" again={xero.connected || Boolean(xero.error)} />
    </Section>
  );
}

function DynamicsPanel({ connection, onUpdated }: PanelProps) {
  const dynamics = connection.dynamics;
  return (
    <Section title="Dynamics 365" id="dynamics">
      <p>
        {dynamics.error ? (
          <span className="error">Needs re-authorisation.</span>
        ) : dynamics.connected ? (
          <span className="ok">
            Connected{dynamics.org_name ? ` to ${dynamics.org_name}` : ", no organisation chosen yet"}.
          </span>
        ) : (
          <span className="todo">Not connected.</span>
        )}
      </p>
      {dynamics.error && (
        <p className="error" role="alert">
          {here(dynamics.error)}
        </p>
      )}
      {dynamics.connected && (
        <OrganisationPicker<DynamicsOrganisation>
          connectionId={connection.id}
          provider="dynamics"
          current={dynamics.org_url}
          valueOf={(o) => o.org_url}
          labelOf={(o) => `${o.name} (${o.unique_name})`}
          bodyOf={(org_url) => ({ org_url })}
          onUpdated={onUpdated}
        />
      )}
      <ConnectButton connectionId={connection.id} provider="dynamics" again={dynamics.connected || Boolean(dynamics.error)} />
    </Section>
  );
}

function NameList({ title, names }: { title: string; names: string[] }) {
  if (names.length === 0) return null;
  return (
    <>
      <h3>{title}</h3>
      <ul>
        {names.map((name) => (
          <li key={name}>{name}</li>
        ))}
      </ul>
    </>
  );
}

function installSummary(result: InstallResult): string {
  if (result.action === "installed") return `Installed the connector's solution, version ${result.version}.`;
  if (result.action === "upgraded") {
    return `Upgraded the connector's solution from version ${result.previous_version} to ${result.version}; nothing was lost.`;
  }
  return `Version ${result.version} of the connector's solution is installed: nothing to do.`;
}

function pushSummary(result: InstallResult): string {
  if (result.push_registered) {
    return "Dynamics 365 tells the connector at once when an invoice is handed over: it reaches Xero in seconds.";
  }
  const why = result.push_problem ? ` (${result.push_problem})` : "";
  return `Dynamics 365 could not be asked to tell the connector of changes at once${why}: invoices are picked up at each poll instead. Install again to retry.`;
}

function InstallPanel({ connection, onUpdated }: PanelProps) {
  const action = useAction();
  const removal = useAction();
  const [result, setResult] = useState<InstallResult | null>(null);
  const [removed, setRemoved] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const ready = Boolean(connection.dynamics.org_url);
  const installUrl = `/v1/connections/${connection.id}/dynamics/install`;

  async function install() {
    const outcome = await action.run(() => api.post<InstallResult>(installUrl));
    if (outcome) {
      setResult(outcome);
      setRemoved(false);
      onUpdated();
    }
  }

  async function remove() {
    const outcome = await removal.run(() => api.delete<{ removed: boolean }>(installUrl));
    if (outcome) {
      setConfirming(false);
      setResult(null);
      setRemoved(true);
      onUpdated();
    }
  }

  return (
    <Section title="The connector in Dynamics 365" id="install">
      <p>
        {connection.tables_installed ? (
          <span className="ok">Installed.</span>
        ) : (
          <span className="todo">Not installed yet.</span>
        )}
      </p>
      <p className="hint">
        Install adds the connector&apos;s solution to Dynamics 365: its tables, a Xero tab on invoices with their
        sync history, Xero balances on accounts and contacts, Xero views, and the Xero Connector User security
        role. An administrator can also <a href={`${API_BASE}/v1/dynamics/solution`} download>download the solution</a>{" "}
        and import it under Settings &gt; Solutions, then choose Re-read settings from Dynamics 365.
      </p>
      {!ready && <p className="hint">Choose the Dynamics 365 organisation first.</p>}
      <button
        type="button"
        className={connection.tables_installed ? "secondary" : undefined}
        onClick={install}
        disabled={!ready || action.pending}
      >
        {action.pending ? "Installing…" : connection.tables_installed ? "Check for an upgrade" : "Install"}
      </button>
      <ErrorMessage error={action.error} />
      {result && (
        <div role="status" aria-live="polite">
          <p className="ok">{installSummary(result)}</p>
          <p className={result.push_registered ? "ok" : "error"}>{pushSummary(result)}</p>
          {result.missing_privileges.length > 0 && (
            <div className="error">
              <NameList
                title="Missing privileges (ask your Dynamics administrator for the Xero Connector User role)"
                names={result.missing_privileges}
              />
            </div>
          )}
        </div>
      )}
      {connection.tables_installed && !confirming && (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Remove from Dynamics 365
        </button>
      )}
      {confirming && (
        <div role="alertdialog" aria-label="Remove the connector from Dynamics 365">
          <p>
            This deletes the connector&apos;s tables from Dynamics 365 with everything in them (sync history,
            settings, Xero tax rates and accounts) and the Xero columns on invoices, accounts and contacts.
          </p>
          <button type="button" className="danger" onClick={remove} disabled={removal.pending}>
            {removal.pending ? "Removing…" : "Remove it"}
          </button>
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </div>
      )}
      <ErrorMessage error={removal.error} />
      {removed && <Notice>Removed from Dynamics 365.</Notice>}
    </Section>
  );
}

function settingLabel(key: string): string {
  const words = key.replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The Dynamics column the connection's mapping template reads for a Xero field, or "". */
function columnFilling(connection: Connection, xeroField: string): string {
  const found = Object.entries(connection.field_mappings ?? {}).find(([, target]) => target === xeroField);
  return found ? found[0] : "";
}

/** What saving a new plan does to the bill. */
function planChangeNote(connection: Connection): string {
  const subscription = connection.subscription;
  if (subscription?.renews_at && !subscription.billing_starts_at && subscription.status !== "cancelled") {
    return `The difference for the rest of this month, to ${formatDay(subscription.renews_at)}, is charged to your card (or credited to it) when you save; receipts are under Billing.`;
  }
  return "Nothing is charged now: you pay for the plan once your subscription starts.";
}

function SettingsPanel({ connection, onUpdated, disabled }: PanelProps & { disabled: boolean }) {
  const plans = useLoad<Plan[]>("/v1/plans");
  const zones = useLoad<string[]>("/v1/time-zones");
  const [name, setName] = useState(connection.name);
  const [timeZone, setTimeZone] = useState(connection.time_zone ?? "");
  const [plan, setPlan] = useState(connection.plan ?? "");
  const [referenceColumn, setReferenceColumn] = useState(columnFilling(connection, "Reference"));
  const [themeColumn, setThemeColumn] = useState(columnFilling(connection, "BrandingThemeID"));
  const [saved, setSaved] = useState(false);
  const save = useAction();
  const refresh = useAction();
  const referenceData = useAction();
  const [referenceDataMessage, setReferenceDataMessage] = useState<string | null>(null);
  const [settings, setSettings] = useState<Record<string, unknown> | null>(null);

  // Reset to what the server holds when that changes, not whenever the page fetches the
  // connection again (after subscribing, say): a choice not yet saved must not vanish.
  const mappingsKey = JSON.stringify(connection.field_mappings ?? {});
  useEffect(() => {
    setName(connection.name);
    setTimeZone(connection.time_zone ?? "");
    setPlan(connection.plan ?? "");
    setReferenceColumn(columnFilling(connection, "Reference"));
    setThemeColumn(columnFilling(connection, "BrandingThemeID"));
  }, [connection.name, connection.time_zone, connection.plan, mappingsKey]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    // Only what changed: an unchosen time zone or plan is left as it is.
    const changes: Record<string, unknown> = {};
    if (name !== connection.name) changes.name = name;
    if (timeZone && timeZone !== connection.time_zone) changes.time_zone = timeZone;
    if (plan && plan !== connection.plan) changes.plan = plan;
    const mappings: Record<string, string> = {};
    if (referenceColumn.trim()) mappings[referenceColumn.trim()] = "Reference";
    if (themeColumn.trim()) mappings[themeColumn.trim()] = "BrandingThemeID";
    if (JSON.stringify(mappings) !== JSON.stringify(connection.field_mappings ?? {})) {
      changes.field_mappings = mappings;
    }
    const fresh = await save.run(() => api.patch<Connection>(`/v1/connections/${connection.id}`, changes));
    if (fresh) {
      onUpdated(fresh);
      setSaved(true);
    }
  }

  async function copyReferenceData() {
    setReferenceDataMessage(null);
    const answer = await referenceData.run(() =>
      api.post<{ message: string }>(`/v1/connections/${connection.id}/reference-data`),
    );
    if (answer) setReferenceDataMessage(answer.message);
  }

  async function reread() {
    const fresh = await refresh.run(() =>
      api.post<Connection & { settings?: Record<string, unknown> }>(`/v1/connections/${connection.id}/refresh`),
    );
    if (fresh) {
      const { settings: read, ...rest } = fresh;
      setSettings(read ?? {});
      onUpdated(rest as Connection);
    }
  }

  return (
    <Section title="Settings" id="settings">
      <form onSubmit={submit} noValidate>
        <fieldset disabled={disabled}>
          <legend className="visually-hidden">Connection settings</legend>
          <Field label="Connection name" name="name" value={name} onChange={(e) => setName(e.target.value)} error={save.error} />
          <TimeZonePicker zones={zones.data} value={timeZone} onChange={setTimeZone} error={save.error} />
          <SelectField label="Plan" name="plan" value={plan} onChange={(e) => setPlan(e.target.value)} options={planOptions(plans.data)} error={save.error} />
          {plan !== connection.plan && <p className="hint" role="status">{planChangeNote(connection)}</p>}
          <fieldset>
            <legend>Mapping template</legend>
            <p className="hint">
              Fill Xero fields from a column of the Dynamics 365 invoice: its logical name, e.g. description.
              Leave empty for the default.
            </p>
            <Field
              label="Xero Reference from column"
              name="field_mappings"
              value={referenceColumn}
              onChange={(e) => setReferenceColumn(e.target.value)}
              error={save.error}
            />
            <Field
              label="Xero branding theme from column"
              name="field_mappings"
              value={themeColumn}
              onChange={(e) => setThemeColumn(e.target.value)}
              error={save.error}
            />
          </fieldset>
          <ErrorMessage error={save.error} fields={["name", "time_zone", "plan", "field_mappings"]} />
          <button type="submit" disabled={save.pending}>
            Save settings
          </button>
          {saved && <Notice>Saved.</Notice>}
        </fieldset>
      </form>
      <h3>Settings in Dynamics 365</h3>
      <p className="hint">
        The connector&apos;s own settings (accounts, tax mapping, branding theme) live in Dynamics 365. After
        reviewing them there, read them again here.
      </p>
      <button type="button" onClick={reread} disabled={disabled || refresh.pending || !connection.dynamics.org_url}>
        Re-read settings from Dynamics 365
      </button>
      <ErrorMessage error={refresh.error} />
      <p className="hint">
        Tax rates, accounts and branding themes are copied from Xero to Dynamics 365 on connect and every few
        hours; after a change in Xero, copy them now.
      </p>
      <button type="button" onClick={copyReferenceData} disabled={disabled || referenceData.pending}>
        Copy Xero tax rates and accounts to Dynamics 365
      </button>
      <ErrorMessage error={referenceData.error} />
      {referenceDataMessage && <Notice>{referenceDataMessage}</Notice>}
      {settings && (
        <div role="status" aria-live="polite">
          {Object.keys(settings).length === 0 ? (
            <p>Settings read.</p>
          ) : (
            <dl className="settings">
              {Object.entries(settings).map(([key, value]) => (
                <div key={key}>
                  <dt>{settingLabel(key)}</dt>
                  <dd>{plainValue(value)}</dd>
                </div>
              ))}
            </dl>
          )}
        </div>
      )}
    </Section>
  );
}

function SubscriptionPanel({ connection, onUpdated }: PanelProps) {
  const plans = useLoad<Plan[]>("/v1/plans");
  const [plan, setPlan] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const subscribe = useAction();
  const cancel = useAction();
  const navigate = useNavigate();
  const subscription = connection.subscription;
  // past_due: a renewal failed and is retried; the subscription still runs.
  const active = subscription?.status === "active" || subscription?.status === "past_due";
  const closed = connection.status === "archived";
  const chosen = plan ?? connection.plan ?? plans.data?.[0]?.code ?? "";

  async function submit(event: FormEvent) {
    event.preventDefault();
    const fresh = await subscribe.run(() =>
      api.post<Connection>(`/v1/connections/${connection.id}/subscription`, { plan: chosen }),
    );
    if (fresh) onUpdated(fresh);
  }

  async function confirmCancel() {
    const fresh = await cancel.run(() => api.delete<Connection>(`/v1/connections/${connection.id}/subscription`));
    if (fresh) {
      setConfirming(false);
      onUpdated(fresh);
    }
  }

  return (
    <Section title="Subscription" id="subscription">
      {subscription && (
        <p>
          {active ? "Subscribed" : `Subscription ${subscription.status}`} · plan{" "}
          {plans.data?.find((p) => p.code === subscription.plan)?.name ?? subscription.plan} · since{" "}
          {formatDate(subscription.started_at)}
          {subscription.cancelled_at && <> · cancelled {formatDate(subscription.cancelled_at)}</>}
          {subscription.billing_starts_at && <> · first charge on {formatDay(subscription.billing_starts_at)}</>}
          {subscription.renews_at && !subscription.billing_starts_at && (
            <> · next charge on {formatDay(subscription.renews_at)}</>
          )}
        </p>
      )}
      {(subscription?.status === "past_due" || subscription?.status === "paused") && (
        <p className="error">
          {subscription.status === "paused"
            ? "Syncing is paused because this month's payment did not go through. Nothing is deleted."
            : "This month's payment did not go through; we will try again."}{" "}
          <Link to="/billing">Update your card</Link> to pay it.
        </p>
      )}
      {!subscription?.renews_at && !active && !closed && (
        <form onSubmit={submit} className="inline-form">
          <SelectField label="Plan" name="plan" value={chosen} onChange={(e) => setPlan(e.target.value)} options={planOptions(plans.data)} error={subscribe.error} />
          <button type="submit" disabled={subscribe.pending}>
            Subscribe
          </button>
          <ErrorMessage error={subscribe.error} fields={["plan"]} />
          <p className="hint">
            You are billed monthly to the card in your <Link to="/billing">billing details</Link>; during the
            free trial, from the day it ends.
          </p>
        </form>
      )}
      {active && !confirming && (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Cancel subscription
        </button>
      )}
      {active && confirming && (
        <div role="group" aria-labelledby="cancel-question" className="confirm">
          <p id="cancel-question">
            Cancelling stops syncing and archives this connection. Cancel the subscription?
          </p>
          <button type="button" className="danger" onClick={confirmCancel} disabled={cancel.pending}>
            Yes, cancel and archive
          </button>{" "}
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            Keep subscription
          </button>
          <ErrorMessage error={cancel.error} />
        </div>
      )}
      {closed && (
        <p>
          This connection no longer syncs. <button type="button" className="link-button" onClick={() => navigate("/connections/new")}>Create a new connection</button>
        </p>
      )}
    </Section>
  );
}
