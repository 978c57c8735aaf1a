"""Text the databases cannot store is refused at the edges with a clear 4xx, not a 500."""

from __future__ import annotations

import httpx

from tests.support import Family


async def test_nul_characters_are_refused_everywhere(family: Family) -> None:
    anna = await family.member("anna", connect=True)
    admin = await family.member("admin", admin=True)
    chat = await anna.family_chat()
    headers = {"Authorization": f"Bearer {anna.access_token}"}
    async with httpx.AsyncClient(base_url=family.url, headers=headers) as http:
        for path, body in (
            (f"/messages/{chat.id}", {"content": "a\x00b"}),
            ("/chats", {"name": "\x00", "participantIds": []}),
            ("/auth/login", {"username": "anna\x00", "password": "x"}),
        ):
            response = await http.post(path, json=body)
            assert response.status_code == 400, (path, response.text)
            assert response.json()["code"] == "VALIDATION_FAILED"
        # An escaped backslash before u0000 is ordinary text, not a NUL.
        literal = await http.post(f"/messages/{chat.id}", json={"content": "\\u0000 is fine"})
        assert literal.status_code == 201
        admin_headers = {"Authorization": f"Bearer {admin.access_token}"}
        in_path = await http.delete("/invitation-codes/AB%00CD", headers=admin_headers)
        assert in_path.status_code == 400
        in_query = await http.get("/users?includeSelf=%00")
        assert in_query.status_code == 400
    assert anna.sio is not None
    ack = await anna.sio.call(
        "sendMessage", {"chatId": str(chat.id), "content": "\x00"}, timeout=10
    )
    assert ack["ok"] is False and ack["error"]["code"] == "VALIDATION_FAILED"
    assert [m.content for m in await anna.history(chat.id)] == ["\\u0000 is fine"]


async def test_wrong_method_answers_405_with_allow(family: Family) -> None:
    async with httpx.AsyncClient(base_url=family.url) as http:
        response = await http.put("/auth/login", json={})
    assert response.status_code == 405
    assert response.headers["allow"]  # (the web client's static mount answers for "/")
    assert response.json()["statusCode"] == 405
