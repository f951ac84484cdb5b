# Test-only: the look-alikes' common base, trusting the certificate authorities this host trusts
# (its egress may present its own; lookalikes.sh copies /usr/local/share/ca-certificates/*.crt).
FROM oasis-lookalike/bookworm:base
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY *.crt /usr/local/share/ca-certificates/
RUN update-ca-certificates
