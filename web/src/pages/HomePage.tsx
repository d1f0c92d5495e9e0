import { Link } from "react-router-dom";

import { useAuth } from "../auth";
import type { Connection } from "../types";
import { useLoad } from "../useLoad";
import { ErrorMessage, Page, StatusBadge, formatDay } from "../ui";

function LinkState({ label, connected, name }: { label: string; connected: boolean; name: string | null }) {
  return (
    <li>
      {label}: {connected ? <span className="ok">connected{name ? ` (${name})` : ""}</span> : <span className="todo">not connected</span>}
    </li>
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
          <li key={connection.id} className="card">
            <h2>
              <Link to={`/connections/${connection.id}`}>{connection.name}</Link>
            </h2>
            <p>
              <StatusBadge status={connection.status} /> {connection.type}
            </p>
            <ul className="plain">
              <LinkState label="Xero" connected={connection.xero.connected} name={connection.xero.tenant_name} />
              <LinkState label="Dynamics 365" connected={connection.dynamics.connected} name={connection.dynamics.org_name} />
            </ul>
          </li>
        ))}
      </ul>
    </Page>
  );
}
