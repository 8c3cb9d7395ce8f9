from __future__ import annotations

from audit.services import record_denial


class DeniedAccessMiddleware:
    """Record every 403 answer (a permission denial) in the access log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 403:
            record_denial(request)
        return response
