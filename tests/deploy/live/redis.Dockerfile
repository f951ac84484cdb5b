# Test-only look-alike of redis:7.4.5-bookworm: Debian bookworm's Redis 7.0.
# The official image is built with protected mode off (its Dockerfile patches the default in
# config.c: the container's network is the boundary). Debian's binary has it on, which refuses
# every client from another container when no password is set, so `redis-server` here gets
# `--protected-mode no` appended, whatever else compose's `command:` passes.
FROM oasis-lookalike/bookworm:ca
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server redis-tools \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data && chown redis:redis /data \
    && printf '#!/bin/sh\nif [ "$1" = redis-server ]; then exec "$@" --protected-mode no; fi\nexec "$@"\n' \
        > /usr/local/bin/docker-entrypoint.sh \
    && chmod 755 /usr/local/bin/docker-entrypoint.sh
WORKDIR /data
USER redis
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
