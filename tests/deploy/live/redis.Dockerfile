# Test-only look-alike of redis:7.4.5-bookworm: Debian bookworm's Redis 7.0.
FROM oasis-lookalike/bookworm:ca
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server redis-tools \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data && chown redis:redis /data
WORKDIR /data
USER redis
EXPOSE 6379
CMD ["redis-server"]
