"""The one S3 question the export check asks more than one place: is an object there?"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

_NOT_FOUND = {"404", "NoSuchKey", "NotFound"}


def object_exists(s3_client: Any, bucket: str, key: str) -> bool:
    """HEAD the object: False when S3 says it is not there; any other error (403: no s3:GetObject,
    or no s3:ListBucket to tell a missing key apart) is raised."""
    try:
        s3_client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _NOT_FOUND:
            return False
        raise
    return True
