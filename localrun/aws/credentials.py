"""Credentials for a local endpoint: moto accepts any, these are the ones the local runtime uses."""

from __future__ import annotations

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
"""What the embedded server accepts; also exported to child processes (the check CLI, the AWS CLI)."""

EXPORT_FAKE_CREDENTIALS = "export " + " ".join(
    f"{name}={FAKE_CREDENTIALS[name]}" for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
)
"""A shell line that gives a new terminal credentials the embedded server (any local endpoint) accepts."""
