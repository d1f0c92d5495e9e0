import { Link, useParams } from "react-router-dom";
import { useState } from "react";

import { api } from "../api";
import type { Activity, Connection, SyncRun } from "../types";
import { useLoad } from "../useLoad";
import { ErrorMessage, Notice, Page, formatDate, useAction } from "../ui";

// SyncRunCompleted's directions, in words.
export const DIRECTIONS: Record<string, string> = {
  invoices: "Invoices: Dynamics 365 → Xero",
  cancellations: "Cancelled invoices: Dynamics 365 → Xero",
  payments: "Status, payments and balances: Xero → Dynamics 365",
  "reference-data": "Tax rates, accounts and themes: Xero → Dynamics 365",
};

function RunCard({ run }: { run: SyncRun }) {
  return (
    <li className={`card run ${run.error || run.failed > 0 ? "run-failed" : ""}`}>
      <h2>{DIRECTIONS[run.direction] ?? run.direction}</h2>
      <p>
        Started {formatDate(run.started_at)} · {run.finished_at ? `finished ${formatDate(run.finished_at)}` : "running"}
      </p>
      <p>
        <span className="ok">{run.succeeded} succeeded</span> ·{" "}
        <span className={run.failed > 0 ? "error" : undefined}>{run.failed} failed</span>
      </p>
      {run.error && <p className="error">{run.error}</p>}
      {run.failures.length > 0 && (
        <table>
          <caption className="visually-hidden">Failed records</caption>
          <thead>
            <tr>
              <th scope="col">Record</th>
              <th scope="col">Message</th>
            </tr>
          </thead>
          <tbody>
            {run.failures.map((failure) => (
              <tr key={failure.record_id}>
                <td>{failure.record_number ?? failure.record_id}</td>
                <td>{failure.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </li>
  );
}

export function ActivityPage() {
  const { id = "" } = useParams();
  const connection = useLoad<Connection>(`/v1/connections/${id}`);
  const activity = useLoad<Activity>(`/v1/connections/${id}/activity`);
  const sync = useAction();
  const [requested, setRequested] = useState(false);

  async function syncNow() {
    setRequested(false);
    const ok = await sync.run(async () => {
      await api.post<void>(`/v1/connections/${id}/sync`);
      return true;
    });
    if (ok) setRequested(true);
  }

  const name = connection.data?.name;
  return (
    <Page title={name ? `Sync activity: ${name}` : "Sync activity"}>
      <p>
        <Link to={`/connections/${id}`}>Back to the connection</Link>
      </p>
      <div className="actions">
        <button type="button" onClick={syncNow} disabled={sync.pending}>
          Sync now
        </button>{" "}
        <button type="button" className="secondary" onClick={activity.reload}>
          Refresh
        </button>
      </div>
      <ErrorMessage error={sync.error} />
      {requested && <Notice>Sync requested. New runs appear here when they finish; press Refresh.</Notice>}
      <ErrorMessage error={activity.error ?? connection.error} />
      {activity.data === undefined && !activity.error && <p role="status">Loading…</p>}
      {activity.data && activity.data.runs.length === 0 && <p>No sync runs yet.</p>}
      <ul className="cards" aria-label="Recent sync runs">
        {activity.data?.runs.map((run) => <RunCard key={`${run.direction}-${run.started_at}`} run={run} />)}
      </ul>
    </Page>
  );
}
