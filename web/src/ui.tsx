import { useCallback, useEffect, useId, useRef, useState } from "react";
import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes } from "react";

import { ApiError } from "./api";

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

const STATUS_LABELS: Record<string, string> = {
  draft: "Draft",
  active: "Active",
  reauthorisation_needed: "Needs re-authorisation",
  cancelled: "Trial ended",
  paused: "Paused: payment needed",
  archived: "Archived",
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{STATUS_LABELS[status] ?? status}</span>;
}
