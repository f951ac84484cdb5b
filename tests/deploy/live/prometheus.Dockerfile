# Test-only look-alike of prom/prometheus:v3.5.0 (docker-compose.yml, `--profile metrics`):
# Debian bookworm's Prometheus 2.42, which takes the flags compose passes. Like the official
# image: the binary as the entrypoint, running as nobody, its data in /prometheus, and wget for
# the health check.
FROM oasis-lookalike/bookworm:ca
RUN apt-get update \
    && apt-get install -y --no-install-recommends prometheus wget \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /prometheus && chown nobody:nogroup /prometheus
USER nobody
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
