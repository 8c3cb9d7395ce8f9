"""Post recorded Jitsi webhook payloads through the real endpoints.

Each line of FILE is a JSON object ``{"provider": "jaas"|"prosody", "body": {...}}``. JaaS
bodies are signed with ``JAAS_WEBHOOK_SECRET`` at the current time when it is set; prosody
bodies carry ``PROSODY_WEBHOOK_TOKEN`` as a bearer token when it is set. Without ``--url``
the requests go through Django's test client inside this process (same middleware, same
checks); with ``--url https://host`` they are sent over HTTP with ``requests``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test import Client

from live.webhooks import jaas_signature_header

PATHS = {"jaas": "/live/hooks/jaas/", "prosody": "/live/hooks/prosody/"}


def _host() -> str:
    for host in settings.ALLOWED_HOSTS:
        if host and host[0] not in ".*":
            return host
    return "testserver"


class Command(BaseCommand):
    help = "Replay recorded webhook payloads (JSON lines) through /live/hooks/…"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--url", default="", help="base URL; default: in-process client")
        parser.add_argument("--timeout", type=float, default=10.0)

    def handle(self, *args, **options):
        try:
            lines = options["file"].read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"cannot read {options['file']}: {error}") from None
        base_url = options["url"].rstrip("/")
        client = Client(raise_request_exception=False, HTTP_HOST=_host())
        counts: Counter[str] = Counter()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                provider = record["provider"]
                path = PATHS[provider]
                body = record["body"]
            except (ValueError, KeyError, TypeError):
                self.stderr.write(f"line {number}: not a {{provider, body}} record, skipped")
                counts["rejected"] += 1
                continue
            raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            headers = self._headers(provider, raw)
            if base_url:
                status, outcome = self._post_http(base_url + path, raw, headers, options["timeout"])
            else:
                response = client.post(path, raw, content_type="application/json", headers=headers)
                status, outcome = response.status_code, _outcome(response.status_code, response)
            counts[outcome] += 1
            if outcome == "rejected":
                self.stderr.write(f"line {number}: {provider} rejected with HTTP {status}")
        self.stdout.write(
            f"{counts['stored']} stored, {counts['duplicate']} duplicate, "
            f"{counts['rejected']} rejected"
        )

    def _headers(self, provider: str, raw: bytes) -> dict[str, str]:
        if provider == "jaas" and settings.JAAS_WEBHOOK_SECRET:
            header = jaas_signature_header(settings.JAAS_WEBHOOK_SECRET, int(time.time()), raw)
            return {"X-Jaas-Signature": header}
        if provider == "prosody" and settings.PROSODY_WEBHOOK_TOKEN:
            return {"Authorization": f"Bearer {settings.PROSODY_WEBHOOK_TOKEN}"}
        return {}

    def _post_http(self, url: str, raw: bytes, headers: dict[str, str], timeout: float):
        headers = {**headers, "Content-Type": "application/json"}
        try:
            response = requests.post(url, data=raw, headers=headers, timeout=timeout)
        except requests.RequestException as error:
            self.stderr.write(f"{url}: {error}")
            return 0, "rejected"
        return response.status_code, _outcome(response.status_code, response)


def _outcome(status: int, response) -> str:
    if status != 200:
        return "rejected"
    try:
        value = response.json().get("status")
    except (ValueError, AttributeError):
        return "rejected"
    return value if value in {"stored", "duplicate"} else "rejected"
