-- Runs with search_path set to the store's schema.
-- Tenants: every profile belongs to one; existing profiles go to `default`
-- (a constant default: no table rewrite). Names are unique per tenant, and
-- every list reads one tenant's range of (tenant, name_key), or
-- (tenant, connector, name_key) when filtered.
ALTER TABLE profiles ADD COLUMN tenant TEXT COLLATE "C" NOT NULL DEFAULT 'default';

DROP INDEX profiles_name_key;
DROP INDEX profiles_connector_name_key;
CREATE UNIQUE INDEX profiles_tenant_name_key ON profiles (tenant, name_key);
CREATE INDEX profiles_tenant_connector_name_key ON profiles (tenant, connector, name_key);

-- The change feed's payload names the tenant: listeners drop other tenants'.
CREATE OR REPLACE FUNCTION profiles_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    op          text;
    row_id      text;
    row_tenant  text;
    row_version bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        op := 'created'; row_id := NEW.id; row_tenant := NEW.tenant; row_version := NEW.version;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.version = OLD.version THEN
            RETURN NULL;
        END IF;
        op := 'updated'; row_id := NEW.id; row_tenant := NEW.tenant; row_version := NEW.version;
    ELSE
        op := 'deleted'; row_id := OLD.id; row_tenant := OLD.tenant; row_version := OLD.version;
    END IF;
    PERFORM pg_notify(
        'patchbay_' || left(TG_TABLE_SCHEMA, 54),
        json_build_object('schema', TG_TABLE_SCHEMA, 'tenant', row_tenant, 'op', op,
                          'id', row_id, 'version', row_version)::text
    );
    RETURN NULL;
END
$$;
