// The shapes of portal-api's answers (see the portal-api contract).

export interface User {
  id: string;
  email: string;
  name: string;
  company_name: string;
  trial_ends_at: string | null;
  created_at: string;
}

export interface AuthResult {
  user: User;
  access_token: string;
}

export interface Plan {
  code: string;
  name: string;
  monthly_price: number | string;
  currency: string;
  sync_interval_seconds: number;
  max_invoices_per_month: number | null;
}

export interface PaymentMethod {
  brand: string;
  last4: string;
}

export interface Billing {
  name: string | null;
  email: string | null;
  address_line1: string | null;
  address_line2: string | null;
  city: string | null;
  postcode: string | null;
  country: string | null;
  vat_number: string | null;
  payment_method: PaymentMethod | null;
}

export type ConnectionStatus =
  | "draft"
  | "active"
  | "reauthorisation_needed"
  | "cancelled"
  | "paused"
  | "archived";

export interface Subscription {
  status: "active" | "past_due" | "paused" | "cancelled";
  plan: string;
  started_at: string | null;
  cancelled_at: string | null;
  /** Subscribed during the trial: the first charge, when the trial ends. */
  billing_starts_at: string | null;
  /** When the next monthly charge falls due. */
  renews_at: string | null;
}

export interface Receipt {
  id: string;
  date: string;
  connection_id: string;
  connection_name: string;
  kind: "charge" | "credit";
  description: string;
  plan: string;
  period_start: string;
  period_end: string;
  amount: string;
  currency: string;
  status: "pending" | "succeeded" | "failed";
  failure_message: string | null;
}

export interface XeroLink {
  connected: boolean;
  tenant_id: string | null;
  tenant_name: string | null;
  error: string | null;
}

export interface DynamicsLink {
  connected: boolean;
  org_url: string | null;
  org_name: string | null;
  error: string | null;
}

export interface Connection {
  id: string;
  name: string;
  type: string;
  status: ConnectionStatus;
  time_zone: string | null;
  plan: string | null;
  trial_ends_at: string | null;
  subscription: Subscription | null;
  xero: XeroLink;
  dynamics: DynamicsLink;
  tables_installed: boolean;
  field_mappings: Record<string, string>;
  /** The plan's monthly invoice limit is reached: new invoices wait until then. */
  invoices_paused_until: string | null;
  created_at: string;
  updated_at: string;
  health?: Health | null;
}

export type HealthState = "healthy" | "attention" | "action_needed" | "paused";

export interface HealthReason {
  code: string;
  message: string;
  count: number | null;
  action: "reauthorise_xero" | "reauthorise_dynamics" | "subscribe" | "fix_permissions" | "finish_setup" | null;
}

export interface Health {
  state: HealthState;
  label: string;
  reasons: HealthReason[];
}

export interface XeroOrganisation {
  tenant_id: string;
  name: string;
}

export interface DynamicsOrganisation {
  org_url: string;
  name: string;
  unique_name: string;
}

export interface InstallResult {
  action: "installed" | "upgraded" | "current";
  version: string;
  previous_version: string | null;
  missing_privileges: string[];
  push_registered: boolean;
  push_problem: string | null;
}

export interface ChecklistStep {
  key: string;
  title: string;
  done: boolean;
  tip: string | null;
}

export interface Checklist {
  complete: boolean;
  steps: ChecklistStep[];
}

export interface SyncFailure {
  record_id: string;
  record_number: string | null;
  message: string;
}

export interface SyncRun {
  direction: string;
  started_at: string;
  finished_at: string | null;
  succeeded: number;
  failed: number;
  error: string | null;
  failures: SyncFailure[];
  empty_runs: number;
}

export interface Activity {
  runs: SyncRun[];
  retention: string;
}

export type InvoiceOutcome = "exported" | "failed" | "not_written_back" | "retry_requested" | "skipped";

export interface InvoiceEvent {
  at: string;
  outcome: string;
  message: string | null;
}

export interface Invoice {
  record_id: string;
  number: string | null;
  customer_name: string | null;
  outcome: InvoiceOutcome;
  message: string | null;
  updated_at: string;
  xero_url: string | null;
  dynamics_url: string | null;
  history: InvoiceEvent[];
}

export interface InvoicePage {
  invoices: Invoice[];
  next_cursor: string | null;
  retention: string;
}

export interface Overview {
  synced_this_month: number;
  plan_limit: number;
  open_failures: number;
  median_lag_seconds: number | null;
  last_successful_run_at: string | null;
  daily: { day: string; invoices: number }[];
}

export interface NotificationPreferences {
  reauthorisation: boolean;
  failures: boolean;
  trial_ending: boolean;
  billing: boolean;
}
