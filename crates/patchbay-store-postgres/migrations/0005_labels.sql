-- Runs with search_path set to the store's schema.
-- Labels as JSONB (a constant default: no table rewrite), with a GIN index
-- (jsonb_path_ops) serving list filters: `labels @> '{"env": "prod"}'`.
ALTER TABLE profiles ADD COLUMN labels JSONB NOT NULL DEFAULT '{}';
CREATE INDEX profiles_labels ON profiles USING GIN (labels jsonb_path_ops);
