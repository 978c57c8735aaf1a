"""The published OpenAPI document matches what the server answers."""

from __future__ import annotations

import httpx

from tests.support import Family


async def test_openapi_documents_400_for_invalid_requests_as_the_server_answers(
    family: Family,
) -> None:
    async with httpx.AsyncClient(base_url=family.url) as http:
        schema = (await http.get("/openapi.json")).json()
        answer = await http.post("/auth/login", json={"username": 5})
    assert answer.status_code == 400
    assert answer.json()["code"] == "VALIDATION_FAILED"
    login = schema["paths"]["/auth/login"]["post"]["responses"]
    assert "400" in login and "422" not in login
    assert login["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    documented = {
        (path, method, status)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        for status in operation.get("responses", {})
    }
    assert not [entry for entry in documented if entry[2] == "422"]
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {
        "statusCode",
        "error",
        "message",
        "code",
    }
