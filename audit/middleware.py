from __future__ import annotations

from audit.models import Action
from audit.services import record_access


class DeniedAccessMiddleware:
    """Record every 403 answer (a permission denial) in the access log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 403:
            record_access(
                request,
                action=Action.DENIED,
                object_type="url",
                object_id=request.path[:64],
                success=False,
                detail=request.method,
            )
        return response
