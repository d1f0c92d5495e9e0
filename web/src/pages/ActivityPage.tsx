import { Link, useParams } from "react-router-dom";
import { useEffect, useRef, useState } from "react";
import type { FormEvent } from "react";

import { api } from "../api";
import type { Activity, Connection, Invoice, InvoicePage, SyncRun } from "../types";
import { useLoad } from "../useLoad";
import { ErrorMessage, Notice, Page, formatDate, here, useAction } from "../ui";

// SyncRunCompleted's directions, in words.
export const DIRECTIONS: Record<string, string> = {
  invoices: "Invoices: Dynamics 365 → Xero",
  cancellations: "Cancelled invoices: Dynamics 365 → Xero",
  payments: "Status, payments and balances: Xero → Dynamics 365",
  "reference-data": "Tax rates, accounts and themes: Xero → Dynamics 365",
};

export const OUTCOMES: Record<string, string> = {
  exported: "Sent to Xero",
  written_back: "Xero's status written to Dynamics 365",
  failed: "Failed",
  not_written_back: "Not written back to Dynamics 365",
  retry_requested: "Retry requested",
  skipped: "Not sent yet (skipped)",
};

function time(value: string): string {
  return new Date(value).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

function RunCard({ run }: { run: SyncRun }) {
  if (run.empty_runs > 0) {
    return (
      <li className="card run run-empty">
        <p>
          {DIRECTIONS[run.direction] ?? run.direction}: no changes{" "}
          {run.empty_runs === 1
            ? `at ${formatDate(run.finished_at)}`
            : `from ${time(run.started_at)} to ${time(run.finished_at ?? run.started_at)} (${run.empty_runs} runs, last ${formatDate(run.finished_at)})`}
        </p>
      </li>
    );
  }
  return (
    <li className={`card run ${run.error || run.failed > 0 ? "run-failed" : ""}`}>
      <h3>{DIRECTIONS[run.direction] ?? run.direction}</h3>
      <p>
        Started {formatDate(run.started_at)} · {run.finished_at ? `finished ${formatDate(run.finished_at)}` : "running"}
      </p>
      <p>
        <span className="ok">{run.succeeded} succeeded</span> ·{" "}
        <span className={run.failed > 0 ? "error" : undefined}>{run.failed} failed</span>
      </p>
      {run.error && <p className="error">{here(run.error)}</p>}
    </li>
  );
}

function InvoiceRow({ connectionId, invoice, onRetried }: { connectionId: string; invoice: Invoice; onRetried: () => void }) {
  const retry = useAction();
  async function ask() {
    const done = await retry.run(() =>
      api.post<{ message: string }>(`/v1/connections/${connectionId}/invoices/${encodeURIComponent(invoice.record_id)}/retry`),
    );
    if (done) onRetried();
  }
  return (
    <tr data-invoice={invoice.number ?? invoice.record_id}>
      <td>{invoice.number ?? "—"}</td>
      <td>{invoice.customer_name ?? "—"}</td>
      <td>
        <span className={invoice.outcome === "failed" || invoice.outcome === "not_written_back" ? "error" : "ok"}>
          {OUTCOMES[invoice.outcome] ?? invoice.outcome}
        </span>
        {invoice.message && <span className="tip">{invoice.message}</span>}
        <details>
          <summary>History</summary>
          <ul className="plain">
            {invoice.history.map((event) => (
              <li key={`${event.at}-${event.outcome}`}>
                {formatDate(event.at)}: {OUTCOMES[event.outcome] ?? event.outcome}
                {event.message ? ` — ${event.message}` : ""}
              </li>
            ))}
          </ul>
        </details>
      </td>
      <td>
        <ul className="plain">
          {invoice.xero_url && (
            <li>
              <a href={invoice.xero_url} target="_blank" rel="noreferrer">
                Open in Xero<span className="visually-hidden"> (invoice {invoice.number})</span>
              </a>
            </li>
          )}
          {invoice.dynamics_url && (
            <li>
              <a href={invoice.dynamics_url} target="_blank" rel="noreferrer">
                Open in Dynamics 365<span className="visually-hidden"> (invoice {invoice.number})</span>
              </a>
            </li>
          )}
        </ul>
        {invoice.outcome === "failed" && (
          <button type="button" className="secondary" onClick={ask} disabled={retry.pending}>
            Retry<span className="visually-hidden"> invoice {invoice.number}</span>
          </button>
        )}
        <ErrorMessage error={retry.error} />
      </td>
    </tr>
  );
}

function Invoices({ connectionId }: { connectionId: string }) {
  const [search, setSearch] = useState("");
  const [outcome, setOutcome] = useState("");
  const [applied, setApplied] = useState({ search: "", outcome: "" });
  const [pages, setPages] = useState<InvoicePage[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const load = useAction();
  // Answers can come back out of order (a slow one after a newer search): only the answer to
  // the latest search is shown.
  const latest = useRef(0);

  function query(cursor: string | null, filters = applied): string {
    const params = new URLSearchParams();
    if (filters.search) params.set("search", filters.search);
    if (filters.outcome) params.set("outcome", filters.outcome);
    if (cursor) params.set("cursor", cursor);
    const text = params.toString();
    return `/v1/connections/${connectionId}/invoices${text ? `?${text}` : ""}`;
  }

  async function first(filters = applied) {
    const ticket = ++latest.current;
    const page = await load.run(() => api.get<InvoicePage>(query(null, filters)));
    if (page && ticket === latest.current) setPages([page]);
  }

  useEffect(() => {
    void first();
  }, [connectionId]);

  async function more() {
    const cursor = pages[pages.length - 1]?.next_cursor;
    if (!cursor) return;
    const ticket = latest.current;
    const page = await load.run(() => api.get<InvoicePage>(query(cursor)));
    if (page && ticket === latest.current) setPages([...pages, page]);
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    const filters = { search: search.trim(), outcome };
    setApplied(filters);
    void first(filters);
  }

  const invoices = pages.flatMap((page) => page.invoices);
  const last = pages[pages.length - 1];
  return (
    <section aria-labelledby="invoices" className="panel">
      <h2 id="invoices">Invoices</h2>
      <form className="filters" onSubmit={submit} role="search">
        <div className="field">
          <label htmlFor="invoice-search">Invoice number or customer</label>
          <input id="invoice-search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="invoice-outcome">Outcome</label>
          <select id="invoice-outcome" value={outcome} onChange={(e) => setOutcome(e.target.value)}>
            <option value="">Any</option>
            <option value="failed">Failed</option>
            <option value="not_written_back">Not written back</option>
            <option value="retry_requested">Retry requested</option>
            <option value="skipped">Not sent yet</option>
            <option value="exported">Sent to Xero</option>
          </select>
        </div>
        <button type="submit">Search</button>
      </form>
      <ErrorMessage error={load.error} />
      {notice && <Notice>{notice}</Notice>}
      {last && invoices.length === 0 && <p>No invoices match.</p>}
      {invoices.length > 0 && (
        // Focusable, so that a keyboard can scroll it sideways on a narrow screen.
        <div className="table-scroll" tabIndex={0} role="region" aria-label="Scrollable table">
          <table className="invoice-table">
            <caption className="visually-hidden">Invoices handed over</caption>
            <thead>
              <tr>
                <th scope="col">Number</th>
                <th scope="col">Customer</th>
                <th scope="col">Outcome</th>
                <th scope="col">Links and actions</th>
              </tr>
            </thead>
            <tbody>
              {invoices.map((invoice) => (
                <InvoiceRow
                  key={invoice.record_id}
                  connectionId={connectionId}
                  invoice={invoice}
                  onRetried={() => {
                    setNotice(`Invoice ${invoice.number ?? ""} will be tried again in a moment.`);
                    void first();
                  }}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {last?.next_cursor && (
        <button type="button" className="secondary" onClick={more} disabled={load.pending}>
          Show more invoices
        </button>
      )}
      {last && <p className="hint">{last.retention}</p>}
    </section>
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
      <Invoices connectionId={id} />
      <section aria-labelledby="runs" className="panel">
        <h2 id="runs">Runs</h2>
        <ErrorMessage error={activity.error ?? connection.error} />
        {activity.data === undefined && !activity.error && <p role="status">Loading…</p>}
        {activity.data && activity.data.runs.length === 0 && <p>No sync runs yet.</p>}
        <ul className="cards" aria-label="Recent sync runs">
          {activity.data?.runs.map((run) => <RunCard key={`${run.direction}-${run.started_at}`} run={run} />)}
        </ul>
        {activity.data && <p className="hint">{activity.data.retention}</p>}
      </section>
    </Page>
  );
}
