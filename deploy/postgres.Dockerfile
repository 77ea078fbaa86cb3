# PostgreSQL 15 for moat's queue and store, built from Debian's postgresql-15 files by
# scripts/build-deploy-images (no distribution base, no registry). The entrypoint
# (busybox sh) creates the cluster on first start with the password from
# POSTGRES_PASSWORD_FILE (or POSTGRES_PASSWORD), then runs postgres as user postgres.
FROM scratch
LABEL org.opencontainers.image.title="moat-postgres" \
      org.opencontainers.image.description="PostgreSQL 15 (Debian build) for moat" \
      org.opencontainers.image.base.name="scratch"
COPY rootfs/ /
# COPY makes every file root-owned: the data directory belongs to postgres.
COPY --chown=999:999 rootfs/var/lib/postgresql/ /var/lib/postgresql/
ENV PGDATA=/var/lib/postgresql/data \
    TZ=UTC
USER 999:999
EXPOSE 5432
VOLUME ["/var/lib/postgresql/data"]
HEALTHCHECK --interval=5s --timeout=3s --retries=20 \
  CMD ["/usr/lib/postgresql/15/bin/pg_isready", "-h", "/var/run/postgresql", "-q"]
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]
