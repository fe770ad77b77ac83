"""The two file storages: `default` (uploads, exports) and `recordings` (call audio).

Both are private. On a developer machine they are folders under .data/; when a
bucket is configured they are S3 (or an S3-compatible server) with server-side
encryption, private ACLs and short-lived presigned URLs (P24, P31).
"""

from pathlib import Path

from django.core.files.storage import FileSystemStorage, storages

S3_BACKEND = "storages.backends.s3.S3Storage"


def _s3(bucket: str, *, endpoint_url: str | None, region: str, kms_key_id: str, url_expiry: int) -> dict:
    encryption = (
        {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {"ServerSideEncryption": "AES256"}
    )
    return {
        "BACKEND": S3_BACKEND,
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "region_name": region,
            "default_acl": "private",
            "object_parameters": encryption,
            "querystring_auth": True,
            "querystring_expire": url_expiry,
            # Never overwrite: two uploads with one name keep both files.
            "file_overwrite": False,
            # Reading an object spools it to a temporary file past this size
            # (the default, 0, keeps a whole multi-gigabyte upload in memory).
            "max_memory_size": 8 * 1024 * 1024,
        },
    }


class PrivateFileSystemStorage(FileSystemStorage):
    """Files on local disk that are never served straight from it.

    There is no public URL: views that check permissions (and write the audit
    event) stream the file instead.
    """

    def url(self, name):
        raise ValueError(f"{name!r} is private and has no public URL; stream it through a view that checks access.")


def _local(location: Path) -> dict:
    return {
        "BACKEND": "nextsupport.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": location, "file_permissions_mode": 0o600, "directory_permissions_mode": 0o700},
    }


def storages_setting(
    *,
    bucket: str,
    recordings_bucket: str,
    endpoint_url: str | None,
    region: str,
    kms_key_id: str,
    media_root: Path,
    recordings_root: Path,
    url_expiry: int,
) -> dict:
    """The STORAGES setting: S3 when a bucket is named, local folders otherwise."""
    if bucket:
        s3 = {"endpoint_url": endpoint_url, "region": region, "kms_key_id": kms_key_id, "url_expiry": url_expiry}
        default, recordings = _s3(bucket, **s3), _s3(recordings_bucket or bucket, **s3)
        recordings["OPTIONS"]["location"] = "recordings" if recordings_bucket in ("", bucket) else ""
    else:
        default, recordings = _local(media_root), _local(recordings_root)
    return {
        "default": default,
        "recordings": recordings,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }


def recordings_storage():
    return storages["recordings"]


def private_url(storage, name: str) -> str | None:
    """A short-lived link to a private object, or None where the storage cannot sign one.

    Local storage has no public URL at all: callers stream the file through a
    view that checks permissions and writes the audit event.
    """
    if storage.__class__.__module__.startswith("storages.backends.s3"):
        return storage.url(name)
    return None
