import { useCallback, useEffect, useId, useRef, useState } from "react";
import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes } from "react";

import { ApiError } from "./api";
import type { Health } from "./types";

/** A page: sets the document title and moves focus to its heading, so screen readers announce
 * the new page after client-side navigation. */
export function Page({ title, children }: { title: string; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · dx-connector`;
  }, [title]);
  useEffect(() => heading.current?.focus(), []);
  return (
    <>
      <h1 ref={heading} tabIndex={-1}>
        {title}
      </h1>
      {children}
    </>
  );
}

/** Runs an API call, keeping its pending state and its error for the form or button it serves. */
export function useAction() {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = useCallback(async <T,>(action: () => Promise<T>): Promise<T | undefined> => {
    setPending(true);
    setError(null);
    try {
      return await action();
    } catch (caught) {
      setError(
        caught instanceof ApiError
          ? caught
          : new ApiError(0, "Something went wrong. Please try again.", [], null),
      );
      return undefined;
    } finally {
      setPending(false);
    }
  }, []);
  return { pending, error, setError, run };
}

/** The messages of an API error that belong to the form or action as a whole (not to a field);
 * an aria-live region, so they are announced when they appear. */
export function ErrorMessage({
  error,
  fields = [],
  id,
}: {
  error: ApiError | null;
  fields?: readonly string[];
  id?: string;
}) {
  const messages = error ? error.general(fields) : [];
  const region = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // Take the keyboard to the first field the API found fault with.
    if (error) region.current?.closest("form")?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [error]);
  return (
    <div className="error-region" role="alert" aria-live="assertive" id={id} ref={region}>
      {messages.map((message) => (
        <p className="error" key={message}>
          {message}
        </p>
      ))}
    </div>
  );
}

export function Notice({ children }: { children: ReactNode }) {
  return (
    <div className="notice" role="status" aria-live="polite">
      {children}
    </div>
  );
}

interface FieldProps extends InputHTMLAttributes<HTMLInputElement> {
  label: string;
  name: string;
  error?: ApiError | null;
  hint?: string;
}

/** A labelled input with its hint and the API's message for this field beside it. */
export function Field({ label, name, error, hint, ...input }: FieldProps) {
  const id = useId();
  const message = error?.forField(name);
  const described = [hint ? `${id}-hint` : null, message ? `${id}-error` : null]
    .filter(Boolean)
    .join(" ");
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      <input
        id={id}
        name={name}
        aria-invalid={message ? true : undefined}
        aria-describedby={described || undefined}
        {...input}
      />
      <FieldMessage id={`${id}-error`} message={message} />
    </div>
  );
}

interface SelectProps extends SelectHTMLAttributes<HTMLSelectElement> {
  label: string;
  name: string;
  error?: ApiError | null;
  options: { value: string; label: string }[];
}

export function SelectField({ label, name, error, options, ...select }: SelectProps) {
  const id = useId();
  const message = error?.forField(name);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        name={name}
        aria-invalid={message ? true : undefined}
        aria-describedby={message ? `${id}-error` : undefined}
        {...select}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
      <FieldMessage id={`${id}-error`} message={message} />
    </div>
  );
}

function FieldMessage({ id, message }: { id: string; message: string | undefined }) {
  return (
    <p className="field-error" id={id} aria-live="polite">
      {message ?? ""}
    </p>
  );
}

export function formatDate(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime())
    ? value
    : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function formatDay(value: string | null | undefined): string {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleDateString(undefined, { dateStyle: "medium" });
}

/** Messages the workers also write to Dynamics 365 say "in the portal"; here, you are in it. */
export function here(message: string): string {
  return message.replaceAll(" in the portal", "");
}

/** The connection's one health state, computed by portal-api: the same on every page. */
export function HealthBadge({ health }: { health: Health | null | undefined }) {
  if (!health) return null;
  return <span className={`badge badge-health-${health.state}`}>{health.label}</span>;
}

/** What makes the health what it is, in words, with counts. */
export function HealthReasons({ health }: { health: Health | null | undefined }) {
  if (!health || health.reasons.length === 0) return null;
  return (
    <ul className={`health-reasons health-${health.state}`} aria-label="Why">
      {health.reasons.map((reason) => (
        <li key={reason.code}>{here(reason.message)}</li>
      ))}
    </ul>
  );
}

/** A value read from Dynamics 365 in words: Yes/No for booleans, "Not set" for nothing. */
export function plainValue(value: unknown): string {
  if (value === true) return "Yes";
  if (value === false) return "No";
  if (value === null || value === undefined || value === "") return "Not set";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** A time zone picker: a search box that narrows a list grouped by region (Europe, America…). */
export function TimeZonePicker({
  zones,
  value,
  onChange,
  error,
}: {
  zones: string[] | undefined;
  value: string;
  onChange: (zone: string) => void;
  error?: ApiError | null;
}) {
  const id = useId();
  const [query, setQuery] = useState("");
  const message = error?.forField("time_zone");
  const wanted = query.trim().toLowerCase().replaceAll(" ", "_");
  const shown = (zones ?? []).filter((zone) => zone === value || !wanted || zone.toLowerCase().includes(wanted));
  const groups = new Map<string, string[]>();
  for (const zone of shown) {
    const region = zone.includes("/") ? zone.split("/")[0] : "Universal";
    groups.set(region, [...(groups.get(region) ?? []), zone]);
  }
  if (value && !shown.includes(value)) groups.set("Current", [value]);
  return (
    <div className="field">
      <label htmlFor={`${id}-search`}>Search time zones</label>
      <input
        id={`${id}-search`}
        type="search"
        value={query}
        placeholder="e.g. London, New York"
        onChange={(e) => {
          setQuery(e.target.value);
          const needle = e.target.value.trim().toLowerCase().replaceAll(" ", "_");
          const first = (zones ?? []).find((zone) => zone.toLowerCase().includes(needle));
          if (needle && first) onChange(first);
        }}
      />
      <label htmlFor={id}>Time zone</label>
      <select
        id={id}
        name="time_zone"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={message ? true : undefined}
        aria-describedby={message ? `${id}-error` : undefined}
      >
        {[...groups.entries()].map(([region, members]) => (
          <optgroup key={region} label={region}>
            {members.map((zone) => (
              <option key={zone} value={zone}>
                {zone.includes("/") ? `${zone.slice(zone.indexOf("/") + 1).replaceAll("_", " ").replaceAll("/", " – ")} (${zone.split("/")[0]})` : zone}
              </option>
            ))}
          </optgroup>
        ))}
      </select>
      <FieldMessage id={`${id}-error`} message={message} />
    </div>
  );
}
