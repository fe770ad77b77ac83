"""The S3 path runs against a real S3-compatible server (moto's), not patched functions."""

import urllib.parse

import boto3
import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from moto.server import ThreadedMotoServer
from storages.backends.s3 import S3Storage

from nextsupport.storage import private_url, storages_setting

BUCKET = "nextsupport-test"


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="eu-west-2")
    if BUCKET not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    return client


def s3_storages(endpoint, **overrides):
    config = storages_setting(
        bucket=BUCKET,
        recordings_bucket="",
        endpoint_url=endpoint,
        region="eu-west-2",
        kms_key_id="",
        media_root=None,
        recordings_root=None,
        url_expiry=300,
        **overrides,
    )
    return {name: S3Storage(**config[name]["OPTIONS"]) for name in ("default", "recordings")}


@pytest.mark.obligation("P24")
def test_s3_objects_are_encrypted_at_rest_and_private(s3, s3_endpoint):
    recordings = s3_storages(s3_endpoint)["recordings"]

    name = recordings.save("calls/2026/abc.wav", ContentFile(b"RIFF....WAVE"))

    key = f"recordings/{name}"
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ServerSideEncryption"] == "AES256"
    grants = s3.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]
    assert all("URI" not in g["Grantee"] for g in grants)  # no AllUsers / AuthenticatedUsers grant
    assert requests.get(f"{s3_endpoint}/{BUCKET}/{key}", timeout=5).status_code == 403


@pytest.mark.obligation("P31")
def test_presigned_urls_work_and_expire_within_minutes(s3, s3_endpoint):
    recordings = s3_storages(s3_endpoint)["recordings"]
    name = recordings.save("calls/short.wav", ContentFile(b"audio"))

    url = private_url(recordings, name)

    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    assert int(query["X-Amz-Expires"][0]) == 300
    assert requests.get(url, timeout=5).content == b"audio"


def test_kms_encryption_is_requested_when_a_key_is_configured(s3_endpoint):
    config = storages_setting(
        bucket=BUCKET,
        recordings_bucket="",
        endpoint_url=s3_endpoint,
        region="eu-west-2",
        kms_key_id="arn:aws:kms:eu-west-2:000000000000:key/test",
        media_root=None,
        recordings_root=None,
        url_expiry=300,
    )

    assert config["recordings"]["OPTIONS"]["object_parameters"] == {
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": "arn:aws:kms:eu-west-2:000000000000:key/test",
    }


def test_uploads_never_overwrite_an_existing_object(s3, s3_endpoint):
    storage = s3_storages(s3_endpoint)["default"]

    first = storage.save("uploads/list.csv", ContentFile(b"one"))
    second = storage.save("uploads/list.csv", ContentFile(b"two"))

    assert first != second
    assert storage.open(first).read() == b"one"


def test_local_storages_are_private_folders_without_public_urls(settings):
    for name in ("default", "recordings"):
        storage = storages[name]
        assert private_url(storage, "anything") is None
        with pytest.raises(ValueError, match="no public URL"):
            storage.url("anything")
