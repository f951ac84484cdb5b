# Test-only look-alike of postgres:16.10-bookworm: Debian bookworm's PostgreSQL 15, with an
# entrypoint that honours what docker-compose.yml uses of the official one (POSTGRES_USER,
# POSTGRES_DB, POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE, PGDATA, initdb on first start).
FROM oasis-lookalike/bookworm:ca
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-15 gosu \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/run/postgresql /var/lib/postgresql/data \
    && chown -R postgres:postgres /var/run/postgresql /var/lib/postgresql \
    && chmod 2777 /var/run/postgresql
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
