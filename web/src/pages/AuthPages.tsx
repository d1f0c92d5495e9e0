import { useState } from "react";
import type { FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";

import { api } from "../api";
import { useAuth } from "../auth";
import type { AuthResult } from "../types";
import { ErrorMessage, Field, Notice, Page, useAction } from "../ui";

function useFormValues<T extends Record<string, string>>(initial: T) {
  const [values, setValues] = useState<T>(initial);
  const bind = (name: keyof T & string) => ({
    name,
    value: values[name],
    onChange: (event: { target: { value: string } }) =>
      setValues((current) => ({ ...current, [name]: event.target.value })),
  });
  return { values, bind };
}

/** Where to go after logging in: only paths inside the portal. */
function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function RegisterPage() {
  const { values, bind } = useFormValues({ email: "", name: "", company_name: "" });
  const action = useAction();
  const [sent, setSent] = useState<string | null>(null);
  const fields = ["email", "name", "company_name"] as const;

  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await action.run(() => api.post<{ message: string }>("/v1/auth/register", values));
    if (result) setSent(result.message);
  }

  return (
    <Page title="Start your free trial">
      {sent ? (
        <Notice>
          <p>{sent}</p>
          <p>Open the link in the email to confirm your address and choose a password.</p>
        </Notice>
      ) : (
        <form onSubmit={submit} noValidate>
          <p>14 days free, no card needed.</p>
          <Field label="Work email" type="email" autoComplete="email" required error={action.error} {...bind("email")} />
          <Field label="Your name" autoComplete="name" required error={action.error} {...bind("name")} />
          <Field label="Company name" autoComplete="organization" required error={action.error} {...bind("company_name")} />
          <ErrorMessage error={action.error} fields={fields} />
          <button type="submit" disabled={action.pending}>
            {action.pending ? "Registering…" : "Register"}
          </button>
          <p>
            Already registered? <Link to="/login">Log in</Link>
          </p>
        </form>
      )}
    </Page>
  );
}

/** Shared by confirmation and password reset: a new password, typed twice. */
function NewPasswordFields({
  values,
  bind,
  error,
}: {
  values: { password: string; repeat: string };
  bind: (name: "password" | "repeat") => { name: string; value: string; onChange: (event: { target: { value: string } }) => void };
  error: ReturnType<typeof useAction>["error"];
}) {
  const mismatch = values.repeat !== "" && values.repeat !== values.password;
  return (
    <>
      <Field label="Password" type="password" autoComplete="new-password" required error={error} {...bind("password")} />
      <Field
        label="Repeat the password"
        type="password"
        autoComplete="new-password"
        required
        aria-invalid={mismatch || undefined}
        {...bind("repeat")}
      />
      <p className="field-error" aria-live="polite">
        {mismatch ? "The two passwords differ." : ""}
      </p>
    </>
  );
}

function MissingToken({ what }: { what: string }) {
  return (
    <p className="error" role="alert">
      This page needs the link from your email ({what}). Open the link from the email again, or{" "}
      <Link to="/register">register</Link>.
    </p>
  );
}

export function ConfirmPage() {
  const [params] = useSearchParams();
  const token = params.get("token");
  const { values, bind } = useFormValues({ password: "", repeat: "" });
  const action = useAction();
  const { signedIn } = useAuth();
  const navigate = useNavigate();

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (values.password !== values.repeat) return;
    const result = await action.run(() =>
      api.post<AuthResult>("/v1/auth/confirm", { token, password: values.password }),
    );
    if (result) {
      signedIn(result.user);
      navigate("/", { replace: true });
    }
  }

  return (
    <Page title="Confirm your email">
      {token ? (
        <form onSubmit={submit} noValidate>
          <p>Choose a password to finish setting up your account.</p>
          <NewPasswordFields values={values} bind={bind} error={action.error} />
          <ErrorMessage error={action.error} fields={["password"]} />
          <button type="submit" disabled={action.pending}>
            {action.pending ? "Saving…" : "Set password and continue"}
          </button>
        </form>
      ) : (
        <MissingToken what="confirmation" />
      )}
    </Page>
  );
}

export function LoginPage() {
  const [params] = useSearchParams();
  const { values, bind } = useFormValues({ email: "", password: "" });
  const action = useAction();
  const { signedIn } = useAuth();
  const navigate = useNavigate();

  async function submit(event: FormEvent) {
    event.preventDefault();
    const result = await action.run(() => api.post<AuthResult>("/v1/auth/login", values));
    if (result) {
      signedIn(result.user);
      navigate(safeNext(params.get("next")), { replace: true });
    }
  }

  const retry = action.error?.retryAfterSeconds;
  return (
    <Page title="Log in">
      <form onSubmit={submit} noValidate>
        <Field label="Email" type="email" autoComplete="username" required error={action.error} {...bind("email")} />
        <Field label="Password" type="password" autoComplete="current-password" required error={action.error} {...bind("password")} />
        <ErrorMessage error={action.error} fields={["email", "password"]} />
        {retry ? <p className="hint">You can try again in {retry} seconds.</p> : null}
        <button type="submit" disabled={action.pending}>
          {action.pending ? "Logging in…" : "Log in"}
        </button>
        <p>
          <Link to="/reset-password">Forgot your password?</Link> · New here?{" "}
          <Link to="/register">Start a free trial</Link>
        </p>
      </form>
    </Page>
  );
}

export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get("token");
  return token ? <ChooseNewPassword token={token} /> : <RequestReset />;
}

function RequestReset() {
  const { values, bind } = useFormValues({ email: "" });
  const action = useAction();
  const [sent, setSent] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const done = await action.run(async () => {
      await api.post<void>("/v1/auth/password-reset", values);
      return true;
    });
    if (done) setSent(true);
  }

  return (
    <Page title="Reset your password">
      {sent ? (
        <Notice>
          <p>If an account uses {values.email}, we have emailed it a link to choose a new password.</p>
        </Notice>
      ) : (
        <form onSubmit={submit} noValidate>
          <Field label="Email" type="email" autoComplete="email" required error={action.error} {...bind("email")} />
          <ErrorMessage error={action.error} fields={["email"]} />
          <button type="submit" disabled={action.pending}>
            Email me a reset link
          </button>
        </form>
      )}
    </Page>
  );
}

function ChooseNewPassword({ token }: { token: string }) {
  const { values, bind } = useFormValues({ password: "", repeat: "" });
  const action = useAction();
  const [done, setDone] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (values.password !== values.repeat) return;
    const ok = await action.run(async () => {
      await api.post<void>("/v1/auth/password-reset/confirm", { token, password: values.password });
      return true;
    });
    if (ok) setDone(true);
  }

  return (
    <Page title="Choose a new password">
      {done ? (
        <Notice>
          <p>
            Your password has been changed. <Link to="/login">Log in</Link>
          </p>
        </Notice>
      ) : (
        <form onSubmit={submit} noValidate>
          <NewPasswordFields values={values} bind={bind} error={action.error} />
          <ErrorMessage error={action.error} fields={["password"]} />
          <button type="submit" disabled={action.pending}>
            Change password
          </button>
        </form>
      )}
    </Page>
  );
}
