# Test-only look-alike of python:3.11.14-slim-bookworm (tests/deploy/live/README.md): Debian
# bookworm's own Python 3.11, with `python` and `pip` where the official image has them.
FROM oasis-lookalike/bookworm:ca
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv python3-pip ca-certificates \
    && rm -rf /var/lib/apt/lists/* /usr/lib/python3.11/EXTERNALLY-MANAGED \
    && ln -s /usr/bin/python3 /usr/local/bin/python \
    && ln -s /usr/bin/pip3 /usr/local/bin/pip
ENV LANG=C.UTF-8
CMD ["python3"]
