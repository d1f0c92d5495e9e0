import { Link } from "react-router-dom";

import { useAuth } from "../auth";
import type { Connection, Overview } from "../types";
import { useLoad } from "../useLoad";
import { ErrorMessage, HealthBadge, HealthReasons, Page, formatDate, formatDay } from "../ui";
import { VolumeChart } from "../VolumeChart";

/** One side's state: "connected" only while the grant works. */
function LinkState({ label, connected, error, name }: { label: string; connected: boolean; error: string | null; name: string | null }) {
  return (
    <li>
      {label}:{" "}
      {error ? (
        <span className="error">needs re-authorisation</span>
      ) : connected ? (
        <span className="ok">connected{name ? ` (${name})` : ""}</span>
      ) : (
        <span className="todo">not connected</span>
      )}
    </li>
  );
}

function minutes(seconds: number): string {
  if (seconds < 1) return "under 1 s";
  return seconds < 90 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;
}

function ConnectionOverview({ connection }: { connection: Connection }) {
  const overview = useLoad<Overview>(`/v1/connections/${connection.id}/overview`);
  const o = overview.data;
  if (!o) return <ErrorMessage error={overview.error} />;
  return (
    <>
      <dl className="overview">
        <div>
          <dt>Synced this month</dt>
          <dd>
            {o.synced_this_month} of {o.plan_limit}
          </dd>
        </div>
        <div>
          <dt>Open failures</dt>
          <dd className={o.open_failures ? "error" : undefined}>{o.open_failures}</dd>
        </div>
        <div>
          <dt>Median wait, last 30 days</dt>
          <dd title="From handed over in Dynamics 365 to written back as sent to Xero">
            {o.median_lag_seconds === null ? "—" : minutes(o.median_lag_seconds)}
          </dd>
        </div>
        <div>
          <dt>Last successful run</dt>
          <dd>{formatDate(o.last_successful_run_at)}</dd>
        </div>
      </dl>
      <VolumeChart name={connection.name} daily={o.daily} />
    </>
  );
}

export function HomePage() {
  const { user } = useAuth();
  const connections = useLoad<Connection[]>("/v1/connections");
  const visible = connections.data?.filter((c) => c.status !== "archived") ?? [];

  return (
    <Page title="Your connections">
      {user?.trial_ends_at && (
        <p className="hint">
          {user.company_name}: free trial until {formatDay(user.trial_ends_at)}.
        </p>
      )}
      <p>
        <Link to="/connections/new" className="button">
          Create connection
        </Link>
      </p>
      <ErrorMessage error={connections.error} />
      {connections.data === undefined && !connections.error && <p role="status">Loading…</p>}
      {connections.data !== undefined && visible.length === 0 && (
        <p>You have no connections yet. Create one to link Dynamics 365 Sales with Xero.</p>
      )}
      <ul className="cards" aria-label="Connections">
        {visible.map((connection) => (
          <li key={connection.id} className="card" data-connection={connection.id}>
            <h2>
              <Link to={`/connections/${connection.id}`}>{connection.name}</Link>
            </h2>
            <p>
              <HealthBadge health={connection.health} /> {connection.type}
            </p>
            <HealthReasons health={connection.health} />
            <ul className="plain">
              <LinkState label="Xero" connected={connection.xero.connected} error={connection.xero.error} name={connection.xero.tenant_name} />
              <LinkState
                label="Dynamics 365"
                connected={connection.dynamics.connected}
                error={connection.dynamics.error}
                name={connection.dynamics.org_name}
              />
            </ul>
            <ConnectionOverview connection={connection} />
          </li>
        ))}
      </ul>
    </Page>
  );
}
