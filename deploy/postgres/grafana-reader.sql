-- Read-only access for Grafana's per-connection dashboard (deploy/grafana/dashboards/
-- dxc-connection.json): portal-api's connection names and its sync runs (ids, times, counts,
-- failure messages; no amounts: the connector stores no financial data). Nothing else: no users,
-- no sessions, no OAuth tokens.
--
-- Run after every migration, as the owner of the tables:
--   psql "$DATABASE" -v ON_ERROR_STOP=1 -v reader=dxc_grafana -v password=... -f grafana-reader.sql
SELECT format('CREATE ROLE %I LOGIN', :'reader')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'reader') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'reader', :'password') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'reader') \gexec
GRANT USAGE ON SCHEMA public TO :"reader";
GRANT SELECT (id, name, plan, time_zone, xero_tenant_name, dynamics_org_name, created_at,
              archived_at)
  ON portal_connections TO :"reader";
GRANT SELECT (connection_id, job_id, direction, started_at, finished_at, succeeded, failed,
              error, failures)
  ON portal_sync_runs TO :"reader";
