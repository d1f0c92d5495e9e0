// The portal-api client: same-origin fetch with the session cookie, the CSRF header on unsafe
// methods, and the contract's errors ({detail, field, errors}) turned into ApiError.

function apiBase(): string {
  const meta = document.querySelector<HTMLMetaElement>('meta[name="dxc-api-base"]');
  const configured = meta?.content || import.meta.env.VITE_API_BASE || "/portal-api";
  return configured.replace(/\/+$/, "");
}

export const API_BASE = apiBase();

export interface FieldError {
  field: string | null;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly errors: FieldError[];
  readonly retryAfterSeconds: number | null;

  constructor(status: number, message: string, errors: FieldError[], retryAfter: number | null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.errors = errors;
    this.retryAfterSeconds = retryAfter;
  }

  /** The message for one field, if the API attributed one to it. */
  forField(field: string): string | undefined {
    return this.errors.find((error) => error.field === field)?.message;
  }

  /** Messages not attributed to any of `fields`: they belong next to the form or action. */
  general(fields: readonly string[]): string[] {
    const unclaimed = this.errors.filter((e) => e.field === null || !fields.includes(e.field));
    if (unclaimed.length > 0) return unclaimed.map((e) => e.message);
    return this.errors.length === 0 ? [this.message] : [];
  }
}

const UNSAFE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export function readCookie(name: string): string | null {
  for (const part of document.cookie.split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return decodeURIComponent(value.join("="));
  }
  return null;
}

interface ErrorBody {
  detail?: unknown;
  field?: unknown;
  errors?: unknown;
}

function asFieldErrors(body: ErrorBody, fallback: string): FieldError[] {
  if (Array.isArray(body.errors)) {
    return body.errors.map((e: { field?: unknown; message?: unknown }) => ({
      field: typeof e.field === "string" ? e.field : null,
      message: typeof e.message === "string" ? e.message : fallback,
    }));
  }
  if (Array.isArray(body.detail)) {
    // FastAPI's own validation format, should a route answer with it.
    return body.detail.map((e: { loc?: unknown[]; msg?: unknown }) => ({
      field: Array.isArray(e.loc) && e.loc.length > 1 ? String(e.loc[e.loc.length - 1]) : null,
      message: typeof e.msg === "string" ? e.msg : fallback,
    }));
  }
  const message = typeof body.detail === "string" ? body.detail : fallback;
  return [{ field: typeof body.field === "string" ? body.field : null, message }];
}

const STATUS_MESSAGES: Record<number, string> = {
  401: "Please log in again.",
  403: "That is not allowed.",
  404: "Not found.",
  429: "Too many attempts. Please wait and try again.",
};

async function toApiError(response: Response): Promise<ApiError> {
  const fallback =
    STATUS_MESSAGES[response.status] ??
    `The server could not do that (HTTP ${response.status}). Please try again.`;
  let body: ErrorBody = {};
  try {
    body = (await response.json()) as ErrorBody;
  } catch {
    // Not JSON (a proxy's error page, say): keep the fallback sentence.
  }
  const errors = asFieldErrors(body, fallback);
  const retryAfter = Number(response.headers.get("Retry-After"));
  const message = errors.length === 1 ? errors[0].message : fallback;
  return new ApiError(response.status, message, errors, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null);
}

/** Listeners told when the API answers 401, so the app can send the person to log in. */
const unauthorisedListeners = new Set<() => void>();
export function onUnauthorised(listener: () => void): () => void {
  unauthorisedListeners.add(listener);
  return () => unauthorisedListeners.delete(listener);
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (UNSAFE_METHODS.has(method)) {
    const csrf = readCookie("dxc_csrf");
    if (csrf) headers["X-CSRF-Token"] = csrf;
  }
  let response: Response;
  try {
    response = await fetch(`${API_BASE}${path}`, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "The portal could not reach the server. Check your connection and try again.", [], null);
  }
  if (!response.ok) {
    const error = await toApiError(response);
    if (response.status === 401 && !path.startsWith("/v1/auth/")) {
      unauthorisedListeners.forEach((listener) => listener());
    }
    throw error;
  }
  if (response.status === 204 || response.status === 202) {
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
  return (await response.json()) as T;
}

export const api = {
  get: <T>(path: string) => request<T>("GET", path),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, body ?? {}),
  put: <T>(path: string, body: unknown) => request<T>("PUT", path, body),
  patch: <T>(path: string, body: unknown) => request<T>("PATCH", path, body),
  delete: <T>(path: string) => request<T>("DELETE", path),
};
