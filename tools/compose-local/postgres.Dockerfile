# A local stand-in for the postgres:15 image, from Debian's PostgreSQL 15, for
# machines with no registry in reach (scripts/compose.sh). It does what the
# generated compose.yaml asks of postgres:15: POSTGRES_PASSWORD for the
# `postgres` superuser, the data in /var/lib/postgresql/data, connections
# from the network with a password, and pg_isready, psql and createdb.
FROM debian:bookworm-slim
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Debian's PostgreSQL 15 is the version the project is tested with.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-15 \
  && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
EXPOSE 5432
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]
