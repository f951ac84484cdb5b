"""An S3 server for end-to-end tests and benchmarks (moto, over HTTP), and a system whose sites live there."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import boto3
from moto.server import ThreadedMotoServer

from tests.e2e.system import free_port

REGION = "us-east-1"
KEY = "oasis-test"


@dataclass(frozen=True)
class S3:
    url: str
    bucket: str
    client: object


@contextmanager
def s3_server(bucket: str) -> Iterator[S3]:
    """A running S3 server on loopback holding one empty bucket."""
    # Its server logs each request; the tests' and benchmarks' own output is what matters.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        client = boto3.client(
            "s3", endpoint_url=url, region_name=REGION, aws_access_key_id=KEY, aws_secret_access_key=KEY
        )
        client.create_bucket(Bucket=bucket)
        yield S3(url=url, bucket=bucket, client=client)
    finally:
        server.stop()


def bucket_system(s3: S3, *, cache_seconds: int, custom_domains_port: int) -> dict:
    """`System` arguments that put sites in the bucket and have the gateway ask sites for each file."""
    return {
        "env_overrides": {
            "sites": {
                "OASIS_SITES_STORE": "",
                "OASIS_SITES_BUCKET": s3.bucket,
                "OASIS_SITES_S3_ENDPOINT_URL": s3.url,
                "OASIS_SITES_S3_REGION": REGION,
                "OASIS_SITES_S3_ACCESS_KEY_ID": KEY,
                "OASIS_SITES_S3_SECRET_ACCESS_KEY": KEY,
            }
        },
        "gateway_overrides": {
            "sites_store": "",
            "sites_bucket": True,
            "sites_cache_seconds": cache_seconds,
            "sites_listen": f"127.0.0.1:{custom_domains_port}",
        },
    }
