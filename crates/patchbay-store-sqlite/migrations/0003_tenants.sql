-- Tenants: every profile belongs to one; existing profiles go to `default`.
-- Names are unique per tenant, and every list reads one tenant's range of
-- (tenant, name_key), or (tenant, connector, name_key) when filtered.
ALTER TABLE profiles ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';

DROP INDEX profiles_name_key;
DROP INDEX profiles_connector_name_key;
CREATE UNIQUE INDEX profiles_tenant_name_key ON profiles (tenant, name_key);
CREATE INDEX profiles_tenant_connector_name_key ON profiles (tenant, connector, name_key);
