-- Schema of the harness's `cdc` database (applied by infra/local/lib/postgres.sh to a fresh cluster).
-- Run by psql as the superuser, with -v db=... -v user=... -v password=...
-- Tables cover the shapes the Debezium decoders must handle: REPLICA IDENTITY FULL (before images on
-- update/delete), DEFAULT identity (key-only before), numeric/timestamp/json columns, and a TOASTable
-- column whose unchanged value Debezium reports as unavailable.
CREATE ROLE :"user" LOGIN REPLICATION PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"user";
\connect :db
SET ROLE :"user";

CREATE TABLE public.customers (
  id          bigint PRIMARY KEY,
  email       text NOT NULL,
  name        text,
  tier        text NOT NULL DEFAULT 'free',
  balance     numeric(12, 2) NOT NULL DEFAULT 0,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE public.customers REPLICA IDENTITY FULL;

CREATE TABLE public.orders (
  id           bigserial PRIMARY KEY,
  customer_id  bigint NOT NULL,
  status       text NOT NULL,
  total_cents  bigint NOT NULL,
  attrs        jsonb,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE public.documents (
  id     integer PRIMARY KEY,
  title  text NOT NULL,
  body   text
);
ALTER TABLE public.documents ALTER COLUMN body SET STORAGE EXTERNAL;

RESET ROLE;
-- One publication shared by both connectors (each has its own replication slot).
CREATE PUBLICATION cdc_pub FOR ALL TABLES;
