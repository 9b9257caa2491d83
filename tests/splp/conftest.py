"""Helpers for the SPLP adapter tests: a scripted httpx.MockTransport (no network)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from splp.wso2 import WSO2Adapter

BASE = "https://splp.test"
TENANT = "bogorkota.go.id"
ADMIN_PW = "Adm1n-S3cret-Pw!"
SCIM = f"/t/{TENANT}/scim2"
DP = "/api/am/devportal/v3"

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def js(status: int, body: Any = None, headers: dict[str, str] | None = None,
       content_type: str = "application/json") -> httpx.Response:
    h = {"Content-Type": content_type, **(headers or {})}
    return httpx.Response(status, content=b"" if body is None else json.dumps(body).encode(), headers=h)


def scim_error(status: int, detail: str | None = None, scim_type: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": str(status)}
    if detail:
        body["detail"] = detail
    if scim_type:
        body["scimType"] = scim_type
    return js(status, body, content_type="application/scim+json")


def dp_error(status: int, message: str = "Error", description: str = "", errors: list | None = None) -> httpx.Response:
    return js(status, {"code": status, "message": message, "description": description, "moreInfo": "",
                       "error": errors or []})


class Router:
    """(METHOD, path) -> a queue of replies; the last reply repeats. Records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Reply]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *replies: Reply) -> Router:
        self.routes[(method, path)] = list(replies)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, request.url.path)
        if key not in self.routes:
            return js(404, {"code": 404, "message": "Not Found", "description": f"no route {key}"})
        queue = self.routes[key]
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply) and not isinstance(reply, httpx.Response):
            return reply(request)
        return reply

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def sequence(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]


def user_resource(user_id: str = "u-1", username: str = "dinkes.simpus", roles: list | None = None) -> dict:
    return {"id": user_id, "userName": username, "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "emails": [{"value": "cp@bogorkota.go.id", "primary": True}],
            "meta": {"created": "2026-01-01T00:00:00Z", "lastModified": "2026-01-01T00:00:00Z",
                     "location": f"{BASE}{SCIM}/Users/{user_id}", "resourceType": "User"},
            **({"roles": roles} if roles is not None else {})}


def list_response(resources: list) -> dict:
    return {"totalResults": len(resources), "startIndex": 1, "itemsPerPage": len(resources),
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "Resources": resources}


ROLE_LIST = list_response([{"id": "role-sub", "displayName": "subscriber",
                            "meta": {"location": f"{BASE}{SCIM}/Roles/role-sub"}}])


@pytest.fixture
def router() -> Router:
    return Router()


@pytest.fixture
async def make_adapter(router: Router):
    made: list[WSO2Adapter] = []

    def make(**kw: Any) -> WSO2Adapter:
        cfg: dict[str, Any] = dict(base_url=BASE, tenant_domain=TENANT, admin_username="admin",
                                   admin_password=ADMIN_PW, backoff_base=0, timeout=2.0,
                                   transport=httpx.MockTransport(router))
        cfg.update(kw)
        a = WSO2Adapter(**cfg)
        made.append(a)
        return a

    yield make
    for a in made:
        await a.aclose()
