"""Jitsi webhook endpoints: ``POST /live/hooks/jaas/`` and ``POST /live/hooks/prosody/``.

Both are CSRF-exempt (the caller is Jitsi's server, authenticated by signature or bearer
token instead) and answer at once: 200 ``{"status": "stored"}`` for a new event, 200
``{"status": "duplicate"}`` for a replay, 4xx with a reason for anything refused (nothing is
stored), 503 when the secret is not configured.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from live.services import do_store_presence_event
from live.webhooks import (
    MAX_BODY_BYTES,
    BodyTooLarge,
    ParsedEvent,
    WebhookError,
    parse_jaas_event,
    parse_prosody_event,
    verify_bearer_token,
    verify_jaas_signature,
)


def _rejected(error: WebhookError) -> JsonResponse:
    response = JsonResponse({"status": "rejected", "reason": str(error)}, status=error.status)
    if error.status == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response


def _not_configured() -> JsonResponse:
    return JsonResponse({"status": "rejected", "reason": "not configured"}, status=503)


def _read_body(request: HttpRequest) -> bytes:
    """The raw body, refusing more than 1 MB by the declared length and by what is read."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        raise BodyTooLarge("body over 1 MB")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise BodyTooLarge("body over 1 MB")
    return body


def _intake(
    request: HttpRequest,
    authenticate: Callable[[bytes], None],
    parse: Callable[[bytes], ParsedEvent],
) -> JsonResponse:
    try:
        body = _read_body(request)
        authenticate(body)
        parsed = parse(body)
    except WebhookError as error:
        return _rejected(error)
    result = do_store_presence_event(parsed)
    return JsonResponse({"status": result.status})


@csrf_exempt
@require_POST
def jaas_hook(request: HttpRequest) -> JsonResponse:
    secret = settings.JAAS_WEBHOOK_SECRET
    if not secret:
        return _not_configured()
    header = request.headers.get("X-Jaas-Signature")
    return _intake(
        request,
        lambda body: verify_jaas_signature(secret, header, body, timezone.now()),
        parse_jaas_event,
    )


@csrf_exempt
@require_POST
def prosody_hook(request: HttpRequest) -> JsonResponse:
    token = settings.PROSODY_WEBHOOK_TOKEN
    if not token:
        return _not_configured()
    header = request.headers.get("Authorization")
    return _intake(request, lambda body: verify_bearer_token(token, header), parse_prosody_event)
